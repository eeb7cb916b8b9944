package dev.kiln.node.testing;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.node.Node;
import dev.kiln.node.NodeConfig;
import dev.kiln.node.NodeServices;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.program.ProgramPublisher;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.program.SampleProgram;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.store.BlobStore;
import dev.kiln.store.Fetcher;
import dev.kiln.store.KilnHome;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.records.StoreRecords;
import dev.kiln.vm.VmLauncher;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A node on a temporary Kiln home with real stores, real SQLite, a real webserver on a free port
 * and the given launcher, plus helpers to publish programs and send HTTP requests to it.
 */
public final class TestNode implements AutoCloseable {
    public final KilnHome home;
    public final BlobStore blobs;
    public final StoreRecords storeRecords;
    public final NodeRecords nodeRecords;
    public final Fetcher fetcher;
    public final LocalPublisher localPublisher;
    public final ProgramPublisher publisher;
    public final VmLauncher launcher;
    public final Node node;
    public final ItemHash runtime;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private TestNode(KilnHome home, BlobStore blobs, StoreRecords storeRecords, NodeRecords nodeRecords, Fetcher fetcher,
                     LocalPublisher localPublisher, ProgramPublisher publisher, VmLauncher launcher, Node node,
                     ItemHash runtime) {
        this.home = home;
        this.blobs = blobs;
        this.storeRecords = storeRecords;
        this.nodeRecords = nodeRecords;
        this.fetcher = fetcher;
        this.localPublisher = localPublisher;
        this.publisher = publisher;
        this.launcher = launcher;
        this.node = node;
        this.runtime = runtime;
    }

    /**
     * @param runtimeImage the file published as the runtime (any file for the agent launcher)
     * @param kernel       the guest kernel path (any file for the agent launcher)
     */
    public static TestNode start(Path homeDir, VmLauncher launcher, Path runtimeImage, Path kernel,
                                 UnaryOperator<NodeConfig> tune) throws IOException {
        return start(homeDir, launcher, runtimeImage, kernel, tune, List.of());
    }

    /** A node that fetches what it lacks from {@code remotes}. */
    public static TestNode start(Path homeDir, VmLauncher launcher, Path runtimeImage, Path kernel,
                                 UnaryOperator<NodeConfig> tune, List<? extends dev.kiln.store.remote.RemoteSource> remotes)
            throws IOException {
        return start(homeDir, launcher, runtimeImage, kernel, tune, remotes,
                ProgramNetworks.disabled("the node was started without VM networking"));
    }

    /** A node whose internet programs are networked by {@code networks} (closed with the node). */
    public static TestNode start(Path homeDir, VmLauncher launcher, Path runtimeImage, Path kernel,
                                 UnaryOperator<NodeConfig> tune, List<? extends dev.kiln.store.remote.RemoteSource> remotes,
                                 ProgramNetworks networks) throws IOException {
        return start(homeDir, launcher, runtimeImage, kernel, tune, remotes, networks, null);
    }

    /** A node whose console lists {@code localRuntimes} (null: none) beside the official catalogue. */
    public static TestNode start(Path homeDir, VmLauncher launcher, Path runtimeImage, Path kernel,
                                 UnaryOperator<NodeConfig> tune, List<? extends dev.kiln.store.remote.RemoteSource> remotes,
                                 ProgramNetworks networks, dev.kiln.node.console.LocalRuntimeList localRuntimes)
            throws IOException {
        return start(homeDir, launcher, runtimeImage, kernel, tune, remotes, networks, localRuntimes, null);
    }

    /** A node whose guest API has {@code guestApi} (null: the defaults, proxying to the first remote). */
    public static TestNode start(Path homeDir, VmLauncher launcher, Path runtimeImage, Path kernel,
                                 UnaryOperator<NodeConfig> tune, List<? extends dev.kiln.store.remote.RemoteSource> remotes,
                                 ProgramNetworks networks, dev.kiln.node.console.LocalRuntimeList localRuntimes,
                                 dev.kiln.node.guestapi.GuestApiSettings guestApi) throws IOException {
        KilnHome home = KilnHome.of(homeDir).create();
        BlobStore blobs = BlobStore.open(home);
        StoreRecords storeRecords = home.openStoreRecords();
        NodeRecords nodeRecords;
        try {
            nodeRecords = NodeRecords.open(home);
        } catch (dev.kiln.store.records.RecordsException e) {
            throw new IOException(e.getMessage(), e);
        }
        Fetcher fetcher = new Fetcher(blobs, remotes);
        LocalPublisher local = LocalPublisher.open(home, blobs, storeRecords);
        ItemHash runtime = local.publish(runtimeImage, null).messageHash();
        ProgramPublisher publisher = new ProgramPublisher(home, local, storeRecords, nodeRecords.programs());
        NodeConfig config = tune.apply(NodeConfig.defaults(kernel).withPort(0).withMemoryBudgetMiB(4096)
                .withStopGrace(Duration.ofSeconds(1)));
        NodeServices services = new NodeServices(home, blobs, storeRecords, fetcher, nodeRecords, launcher, localRuntimes);
        Node node = guestApi == null ? Node.start(config, services, networks) : Node.start(config, services, networks, guestApi);
        return new TestNode(home, blobs, storeRecords, nodeRecords, fetcher, local, publisher, launcher, node, runtime);
    }

    /** A node with the agent launcher: no kernel, the runtime is a placeholder file. */
    public static TestNode withAgents(Path homeDir, AgentVmLauncher launcher, UnaryOperator<NodeConfig> tune)
            throws IOException {
        return withAgents(homeDir, launcher, tune, List.of());
    }

    public static TestNode withAgents(Path homeDir, AgentVmLauncher launcher, UnaryOperator<NodeConfig> tune,
                                      List<? extends dev.kiln.store.remote.RemoteSource> remotes) throws IOException {
        Path placeholder = Files.createDirectories(homeDir.resolve("fixtures"));
        Path rt = Files.writeString(placeholder.resolve("runtime.img"), "the host's own Python stands in for a runtime");
        Path kernel = Files.writeString(placeholder.resolve("vmlinux"), "no kernel: the agent runs on the host");
        return start(homeDir, launcher, rt, kernel, tune, remotes);
    }

    public PublishedProgram publishSample(Encoding encoding) throws Exception {
        return SampleProgram.deploy(publisher, runtime, encoding, home.tmp());
    }

    /** Publishes the sample's code under another name with other resources (a distinct program). */
    public PublishedProgram publishSample(String name, Resources resources) throws Exception {
        Path dir = SampleProgram.writeTo(Files.createTempDirectory(home.tmp(), name));
        return publisher.publish(new ProgramSpec(dir, Encoding.ZIP, SampleProgram.ENTRYPOINT, CodeInterface.ASGI,
                runtime, "test", resources, Map.of("PROGRAM_NAME", name), name));
    }

    public PublishedProgram publish(Path dir, Encoding encoding, String entrypoint, CodeInterface iface,
                                    Resources resources, String name) throws Exception {
        return publisher.publish(new ProgramSpec(dir, encoding, entrypoint, iface, runtime, "test", resources, Map.of(), name));
    }

    public URI uri(String path) {
        return node.uri().resolve(path);
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(120)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(ItemHash program, String path) throws IOException, InterruptedException {
        return get("/vm/" + program.value() + path);
    }

    public HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A call to the operator API with this node's token ({@code Authorization: Bearer}); {@code body}
     * null sends none (a GET, unless {@code method} says otherwise).
     */
    public HttpResponse<String> operator(String method, String path, String body) throws IOException, InterruptedException {
        String token = dev.kiln.node.control.OperatorToken.read(home.root()).orElseThrow();
        return send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)));
    }

    public HttpClient http() {
        return http;
    }

    /** Stops the node and every VM, persistent ones too: a test leaves nothing running. */
    @Override
    public void close() {
        close(false);
    }

    /** Stops the node as {@code kiln node} does: persistent programs' VMs keep running for the next node. */
    public void closeLeavingPersistent() {
        close(true);
    }

    private void close(boolean leavePersistent) {
        try {
            if (leavePersistent) node.close(); else node.closeStoppingAll();
        } finally {
            nodeRecords.close();
            storeRecords.close();
        }
    }
}
