package dev.kiln.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.BlobInfo;
import dev.kiln.store.BlobStore;
import dev.kiln.store.CorruptBlobException;
import dev.kiln.store.Corruption;
import dev.kiln.store.VerifyReport;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "store", mixinStandardHelpOptions = true, description = "The local content-addressed store: put, get, verify, list.",
        subcommands = {StoreCommand.Put.class, StoreCommand.Get.class, StoreCommand.Verify.class,
                StoreCommand.ListBlobs.class, StoreCommand.Remove.class})
final class StoreCommand {

    @Command(name = "put", mixinStandardHelpOptions = true, description = "Store files; prints each one's SHA-256 item hash.")
    static final class Put implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Parameters(paramLabel = "FILE", arity = "1..*") List<Path> files;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            for (Path f : files) {
                if (Files.isDirectory(f)) throw new IOException(f + " is a directory; the store keeps files (pack it first, e.g. as a zip or squashfs)");
                if (!Files.isRegularFile(f)) throw new IOException("no such file: " + f);
                ItemHash h = kiln.blobs().put(f);
                out.println(files.size() == 1 ? h.value() : h.value() + "  " + f);
            }
            return Main.OK;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Copy a stored blob out, verified against its hash (to stdout without -o).")
    static final class Get implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Parameters(paramLabel = "HASH") String hash;
        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write to FILE instead of stdout.") Path output;

        @Override
        public Integer call() throws IOException {
            ItemHash h = ItemHash.parse(hash);
            // path() verifies the whole blob before a byte is copied, so a corrupted blob yields
            // an error and no output rather than output followed by an error.
            Path blob = kiln.blobs().path(h);
            if (output == null) {
                OutputStream out = System.out;
                Files.copy(blob, out);
                out.flush();
                return Main.OK;
            }
            Path target = output.toAbsolutePath();
            Path dir = target.getParent();
            if (dir == null || !Files.isDirectory(dir)) throw new IOException("no such directory: " + dir);
            Path temp = Files.createTempFile(dir, "." + target.getFileName() + "-", ".part");
            try {
                Files.copy(blob, temp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
            spec.commandLine().getErr().println("kiln: wrote " + Bytes.human(Files.size(target)) + " to " + output);
            return Main.OK;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true, description = "Re-hash blobs; corrupted ones are moved aside and never served. Exit 1 if any is corrupted.")
    static final class Verify implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Option(names = "--all", description = "Verify every blob in the store.") boolean all;
        @Parameters(paramLabel = "HASH", arity = "0..*") List<String> hashes = new ArrayList<>();

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (all == !hashes.isEmpty()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give item hashes or --all (not both)");
            }
            BlobStore blobs = kiln.blobs();
            List<Corruption> corrupted = new ArrayList<>();
            int ok = 0;
            long bytes = 0;
            if (all) {
                VerifyReport r = blobs.verifyAll();
                ok = r.ok();
                bytes = r.bytesChecked();
                corrupted.addAll(r.corrupted());
            } else {
                for (String s : hashes) {
                    ItemHash h = ItemHash.parse(s);
                    try {
                        bytes += blobs.verify(h).size();
                        ok++;
                    } catch (CorruptBlobException e) {
                        corrupted.add(e.corruption());
                    }
                }
            }
            for (Corruption c : corrupted) {
                err.println("kiln: CORRUPTED " + c.expected() + ": its bytes hash to " + c.actual()
                        + (c.movedTo() != null ? "; moved aside to " + c.movedTo() : ""));
            }
            out.println(ok + " ok (" + Bytes.human(bytes) + " checked), " + corrupted.size() + " corrupted");
            if (!corrupted.isEmpty()) {
                err.println("kiln: corrupted blobs are no longer served; they are fetched again from a remote on next use");
                return Main.USER_ERROR;
            }
            return Main.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List stored blobs (not verified; see 'kiln store verify').")
    static final class ListBlobs implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Option(names = "--json", description = "Print JSON for scripts.") boolean json;

        @Override
        public Integer call() throws Exception {
            List<BlobInfo> blobs = kiln.blobs().list();
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ArrayNode arr = RuntimeCommand.JSON.createArrayNode();
                for (BlobInfo b : blobs) {
                    ObjectNode n = arr.addObject();
                    n.put("item_hash", b.hash().value());
                    n.put("size", b.size());
                    n.put("modified", b.modified().toString());
                }
                out.println(RuntimeCommand.JSON.writeValueAsString(arr));
                return Main.OK;
            }
            Table t = new Table("ITEM HASH", "SIZE", "STORED");
            for (BlobInfo b : blobs) t.row(b.hash().value(), Bytes.human(b.size()), b.modified().toString());
            t.print(out);
            return Main.OK;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Delete blobs from the local store.")
    static final class Remove implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Parameters(paramLabel = "HASH", arity = "1..*") List<String> hashes;

        @Override
        public Integer call() throws IOException {
            int missing = 0;
            for (String s : hashes) {
                ItemHash h = ItemHash.parse(s);
                if (!kiln.blobs().remove(h)) {
                    spec.commandLine().getErr().println("kiln: " + h + " is not in the local store");
                    missing++;
                }
            }
            return missing == 0 ? Main.OK : Main.USER_ERROR;
        }
    }
}
