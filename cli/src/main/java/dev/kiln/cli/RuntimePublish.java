package dev.kiln.cli;

import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.runtime.LocalRuntimes;
import dev.kiln.builder.runtime.RuntimeBuilder;
import dev.kiln.builder.runtime.RuntimeSpec;
import dev.kiln.builder.runtime.RuntimeSpecException;
import dev.kiln.builder.step.BuildListener;
import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "publish", mixinStandardHelpOptions = true, description = {
        "Put a runtime image into the store and record a STORE message for it.",
        "Prints the item hash to use as a program's runtime.ref. --amends publishes a new version:"
                + " use_latest references to the old one then resolve to it."})
final class RuntimePublish implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;

    @Parameters(paramLabel = "IMAGE", description = "An image file (.squashfs or .ext4), or a spec (file or official"
            + " name) already built with 'kiln runtime build'.")
    String image;

    @Option(names = "--name", paramLabel = "NAME", description = "The name to list it under (default: local/<spec name>).")
    String name;

    @Option(names = "--amends", paramLabel = "HASH", description = "The STORE message (item hash) of the version this one replaces.")
    String amends;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ItemHash previous = null;
        if (amends != null) {
            try {
                previous = ItemHash.parse(amends.strip());
            } catch (InvalidItemHashException e) {
                throw new ParameterException(spec.commandLine(), "--amends needs the item hash of a STORE message"
                        + " ('kiln runtime list --json' shows them): " + e.getMessage());
            }
        }
        publish(kiln, out, imageFile(image), name, previous);
        return Main.OK;
    }

    /** Publishes an image and prints what a program's message needs (also for 'kiln runtime build --publish'). */
    static void publish(KilnContext kiln, PrintWriter out, Path file, String name, ItemHash previous) throws IOException {
        LocalRuntimes.Publication p = new LocalRuntimes(kiln.home().root()).publish(kiln.publisher(), file, name, previous);
        out.println("published " + p.name() + " (" + p.filesystem() + ", " + Bytes.human(p.sizeBytes()) + ")");
        out.println("  runtime.ref: " + p.messageHash());
        out.println("  file hash:   " + p.imageSha256());
        if (p.amends() != null) out.println("  amends:      " + p.amends() + " (use_latest references to it now resolve here)");
        // Programs follow a chain of amends through the reference they already hold.
        String ref = p.amends() != null ? p.amends() : p.messageHash();
        out.println("Use it in a program's message: \"runtime\": {\"ref\": \"" + ref + "\", \"use_latest\": true}");
    }

    /** The file itself, or the cached image of a spec built before. */
    private Path imageFile(String argument) {
        Path file = Path.of(argument);
        boolean specArgument = argument.endsWith(".yaml") || argument.endsWith(".yml") || !argument.contains(".");
        if (Files.isRegularFile(file) && !specArgument) return file;
        RuntimeSpec runtimeSpec;
        try {
            runtimeSpec = RuntimeBuild.resolve(argument);
        } catch (RuntimeSpecException e) {
            throw new ParameterException(spec.commandLine(), "no image file " + argument
                    + " (give the path 'kiln runtime build' printed, or a spec that was built)");
        }
        try {
            Optional<BuiltRuntime> built = new RuntimeBuilder(kiln.home().root(), BuildListener.SILENT).cached(runtimeSpec);
            return built.map(BuiltRuntime::image).orElseThrow(() -> new ParameterException(spec.commandLine(),
                    runtimeSpec.name() + " has not been built here: run 'kiln runtime build " + argument + "' first"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
