package dev.kiln.cli;

import dev.kiln.builder.runtime.LocalRuntimes;
import dev.kiln.core.catalogue.RuntimeCatalogue;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.BlobStore;
import dev.kiln.store.Fetcher;
import dev.kiln.store.ItemResolver;
import dev.kiln.store.KilnHome;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.records.StoreRecords;
import dev.kiln.store.remote.AlephHttpSource;
import dev.kiln.store.remote.RemoteSource;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every command shares: the Kiln home and what lives in it, opened on first use and closed
 * when the command ends. Mixed into each subcommand; the options themselves are on the root
 * ({@code --home}, {@code --remote}, {@code --debug}) and inherited by all.
 *
 * <p>The bare {@code @Command} only makes picocli accept a mixin whose sole member is the
 * {@code @Spec}; it adds nothing to the commands it is mixed into.
 */
@Command
final class KilnContext {
    static final String REMOTE_ENV = "KILN_REMOTE";

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    private KilnHome home;
    private BlobStore blobs;
    private StoreRecords records;
    private List<RemoteSource> remotes;
    private Fetcher fetcher;

    KilnCommand root() {
        return (KilnCommand) mixee.root().userObject();
    }

    KilnHome home() throws IOException {
        if (home == null) {
            KilnCommand r = root();
            home = KilnHome.resolve(r.home == null ? null : r.home.toString()).create();
        }
        return home;
    }

    BlobStore blobs() throws IOException {
        if (blobs == null) blobs = BlobStore.open(home());
        return blobs;
    }

    StoreRecords records() throws IOException {
        if (records == null) {
            records = home().openStoreRecords();
            root().closeLater(records);
        }
        return records;
    }

    /** The remotes from {@code --remote} or {@value #REMOTE_ENV} (comma-separated, tried in order). */
    List<RemoteSource> remotes() {
        if (remotes == null) {
            String spec = root().remote != null ? root().remote : System.getenv(REMOTE_ENV);
            List<RemoteSource> list = new ArrayList<>();
            if (spec != null) {
                for (String s : spec.split(",")) {
                    if (s.isBlank()) continue;
                    AlephHttpSource source = new AlephHttpSource(remoteUri(s.strip()));
                    root().closeLater(source);
                    list.add(source);
                }
            }
            remotes = List.copyOf(list);
        }
        return remotes;
    }

    Fetcher fetcher() throws IOException {
        if (fetcher == null) fetcher = new Fetcher(blobs(), remotes());
        return fetcher;
    }

    ItemResolver resolver() throws IOException {
        return new ItemResolver(blobs(), records(), fetcher());
    }

    LocalPublisher publisher() throws IOException {
        return LocalPublisher.open(home(), blobs(), records());
    }

    /** The official runtimes plus those built or published here. */
    RuntimeCatalogue catalogue() throws IOException {
        return RuntimeCatalogue.official().withLocal(new LocalRuntimes(home().root()).entries());
    }

    /** Whether the item behind a runtime reference is here, for {@code runtime show}. */
    String localCopyDescription(ItemHash ref) throws IOException {
        if (!ref.isSha256()) return "not available (IPFS items cannot be fetched by this node)";
        Optional<StoreRecord> message = records().resolve(ref, true);
        ItemHash file = message.map(StoreRecord::fileHash).orElse(ref);
        if (file.isSha256() && blobs().has(file)) {
            long size = Files.size(blobs().path(file));
            return "in the local store (file " + file.shortForm() + ", " + Bytes.human(size) + ")";
        }
        return "not downloaded ('kiln runtime pull " + ref + " --remote URL' fetches it)";
    }

    private static URI remoteUri(String s) {
        try {
            URI u = new URI(s);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new CommandLine.ParameterException(new CommandLine(new KilnCommand()),
                        "--remote must be an http(s) URL such as https://api2.aleph.im, got '" + s + "'");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new CommandLine.ParameterException(new CommandLine(new KilnCommand()),
                    "--remote is not a URL: '" + s + "' (" + e.getReason() + ")");
        }
    }
}
