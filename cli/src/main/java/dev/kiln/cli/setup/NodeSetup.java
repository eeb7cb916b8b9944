package dev.kiln.cli.setup;

import dev.kiln.builder.kernel.GuestKernel;
import dev.kiln.builder.kernel.KernelBuildException;
import dev.kiln.builder.kernel.KernelBuilder;
import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.runtime.LocalRuntimes;
import dev.kiln.builder.runtime.RuntimeBuildException;
import dev.kiln.builder.runtime.RuntimeBuilder;
import dev.kiln.builder.runtime.RuntimeSpecs;
import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.step.BuildProgress;
import dev.kiln.core.catalogue.RuntimeCatalogue;
import dev.kiln.core.catalogue.RuntimeNotFoundException;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Encoding;
import dev.kiln.node.program.PackagingException;
import dev.kiln.node.program.ProgramPublisher;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.program.SampleProgram;
import dev.kiln.store.KilnHome;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.records.StoreRecords;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * What {@code kiln node} does before it listens, in named steps: BuildKernel and BuildRuntime
 * (cached after the first time: ≈ 5.5 min and ≈ 1 min on 2 cores), PublishRuntime (the image goes
 * into the store as a STORE message, so programs reference it by hash like any runtime; reused
 * when already published), DeploySample (the bundled ASGI program, reused when unchanged).
 *
 * <p>There is no aleph network here: the catalogue's official default hash cannot be fetched, so
 * this node's "default" runtime is the locally built official {@value #DEFAULT_RUNTIME} spec.
 */
public final class NodeSetup {
    /** The official spec this node builds as its default runtime. */
    public static final String DEFAULT_RUNTIME = "debian-12-python";

    /** The outcome of a full preparation. */
    public record Prepared(GuestKernel kernel, LocalRuntime runtime, PublishedProgram sample) {
    }

    /** A runtime built here and published: {@code ref} is what a program's runtime.ref names. */
    public record LocalRuntime(String spec, BuiltRuntime image, ItemHash ref, boolean newlyPublished) {
    }

    private final KilnHome home;
    private final LocalPublisher publisher;
    private final StoreRecords storeRecords;
    private final ProgramPublisher programs;
    private final SetupListener listener;

    public NodeSetup(KilnHome home, LocalPublisher publisher, StoreRecords storeRecords, ProgramPublisher programs,
                     SetupListener listener) {
        this.home = home;
        this.publisher = publisher;
        this.storeRecords = storeRecords;
        this.programs = programs;
        this.listener = listener;
    }

    /** All four steps, in order. */
    public Prepared prepare() throws SetupException, InterruptedException {
        GuestKernel kernel = kernel(1, 4);
        LocalRuntime runtime = runtime(DEFAULT_RUNTIME, 2, 4);
        PublishedProgram sample = deploySample(runtime.ref(), 4, 4);
        return new Prepared(kernel, runtime, sample);
    }

    /** The guest kernel, built if not cached. */
    public GuestKernel kernel() throws SetupException, InterruptedException {
        return kernel(1, 1);
    }

    /** An official runtime spec built here (if not cached) and published (if not already). */
    public LocalRuntime runtime(String spec) throws SetupException, InterruptedException {
        return runtime(spec, 1, 2);
    }

    private GuestKernel kernel(int number, int count) throws SetupException, InterruptedException {
        String step = "BuildKernel";
        listener.stepStarted(step, number, count);
        long start = System.nanoTime();
        try {
            GuestKernel k = new KernelBuilder(home.root(), new BuildListener() {
                @Override
                public void onProgress(BuildProgress p) {
                    listener.progress(step, p.overallFraction(), p.step() + (p.message().isEmpty() ? "" : ": " + p.message()));
                }
            }).build();
            listener.stepFinished(step, since(start), (k.fromCache() ? "cached " : "built ") + k.kernelRelease()
                    + " (" + k.vmlinux() + ")");
            return k;
        } catch (KernelBuildException e) {
            throw new SetupException(step, "building the guest kernel failed: " + e.getMessage(), e);
        }
    }

    private LocalRuntime runtime(String spec, int number, int count) throws SetupException, InterruptedException {
        String buildStep = "BuildRuntime";
        listener.stepStarted(buildStep, number, count);
        long start = System.nanoTime();
        BuiltRuntime built;
        try {
            built = new RuntimeBuilder(home.root(), new BuildListener() {
                @Override
                public void onProgress(BuildProgress p) {
                    listener.progress(buildStep, p.overallFraction(), p.step() + (p.message().isEmpty() ? "" : ": " + p.message()));
                }
            }).build(RuntimeSpecs.official(spec));
        } catch (RuntimeBuildException e) {
            throw new SetupException(buildStep, "building the " + spec + " runtime failed: " + e.getMessage(), e);
        }
        listener.stepFinished(buildStep, since(start), (built.fromCache() ? "cached " : "built ") + spec + " ("
                + built.sizeBytes() / (1024 * 1024) + " MiB, sha256 " + built.imageHash().shortForm() + ")");

        String step = "PublishRuntime";
        listener.stepStarted(step, number + 1, count);
        start = System.nanoTime();
        try {
            LocalRuntimes local = new LocalRuntimes(home.root());
            Optional<ItemHash> existing = publishedBefore(local, built);
            ItemHash ref = existing.isPresent() ? existing.get()
                    : ItemHash.parse(local.publish(publisher, built.image(), null, null).messageHash());
            listener.stepFinished(step, since(start), (existing.isPresent() ? "already published as " : "published as ") + ref);
            return new LocalRuntime(spec, built, ref, existing.isEmpty());
        } catch (IOException e) {
            throw new SetupException(step, "publishing the " + spec + " runtime failed: " + e.getMessage(), e);
        }
    }

    /**
     * What {@code --runtime} names, as a {@code runtime.ref}: {@code default} or an official spec
     * name (built and published here if needed), a full item hash (used as given), or a name or
     * hash prefix from the runtime catalogue.
     *
     * @throws SetupException if it names nothing, with the accepted forms
     */
    public ItemHash runtimeReference(String choice, RuntimeCatalogue catalogue)
            throws SetupException, InterruptedException {
        String c = choice == null ? "default" : choice.strip();
        if (c.equals("default")) return runtime(DEFAULT_RUNTIME).ref();
        if (RuntimeSpecs.isOfficial(c)) return runtime(c).ref();
        try {
            return catalogue.find(c).itemHash();
        } catch (RuntimeNotFoundException e) {
            throw new SetupException("ChooseRuntime", "--runtime '" + c + "' names no runtime: give 'default', an official"
                    + " spec (" + String.join(", ", RuntimeSpecs.officialNames()) + "), an item hash, or a name from"
                    + " 'kiln runtime list'", e);
        }
    }

    /** The deployed sample program (published again only if its code or runtime changed). */
    public PublishedProgram deploySample(ItemHash runtime) throws SetupException, InterruptedException {
        return deploySample(runtime, 1, 1);
    }

    private PublishedProgram deploySample(ItemHash runtime, int number, int count) throws SetupException, InterruptedException {
        String step = "DeploySample";
        listener.stepStarted(step, number, count);
        long start = System.nanoTime();
        try {
            PublishedProgram p = SampleProgram.deploy(programs, runtime, Encoding.ZIP, home.tmp());
            listener.stepFinished(step, since(start), (p.reused() ? "already deployed as " : "deployed as ") + p.message());
            return p;
        } catch (IOException | PackagingException e) {
            throw new SetupException(step, "deploying the sample program failed: " + e.getMessage(), e);
        }
    }

    /** A publication of exactly this image whose STORE message is still recorded here. */
    private Optional<ItemHash> publishedBefore(LocalRuntimes local, BuiltRuntime built) throws IOException {
        for (LocalRuntimes.Publication p : local.publications().reversed()) {
            if (!p.imageSha256().equals(built.imageHash().value()) || p.amends() != null) continue;
            ItemHash ref = ItemHash.parse(p.messageHash());
            if (storeRecords.find(ref).isPresent()) return Optional.of(ref);
        }
        return Optional.empty();
    }

    private static Duration since(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
