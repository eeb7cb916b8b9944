package dev.kiln.cli;

import dev.kiln.builder.cloudimage.CloudImageImport;
import dev.kiln.builder.runtime.LocalRuntimes;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "import", mixinStandardHelpOptions = true, description = {
        "Publish a cloud disk image (qcow2 or raw, e.g. a distribution's genericcloud image) as a qemu-disk-image runtime.",
        "The file is checked with qemu-img (format, no backing file, size, integrity), stored by its SHA-256, and"
                + " a STORE message is recorded; its hash is the rootfs.parent.ref of an INSTANCE message with"
                + " environment.hypervisor: qemu."})
final class RuntimeImport implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;

    @Parameters(paramLabel = "FILE", description = "The disk image file (.qcow2, .raw or .img).")
    Path file;

    @Option(names = "--name", paramLabel = "NAME", description = "The name to list it under (default: local/<file name>).")
    String name;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        // A refused file is a failure (exit 1) whose message names the file and what to do.
        CloudImageImport.Imported imported =
                CloudImageImport.importImage(new LocalRuntimes(kiln.home().root()), kiln.publisher(), file, name);
        LocalRuntimes.Publication p = imported.publication();
        // The instance's disk is at least the image's virtual size; 4 GiB leaves room to work in.
        long sizeMib = Math.max(4096, (imported.image().virtualBytes() + (1 << 20) - 1) >> 20);
        out.println("imported " + p.name() + " (qemu-disk-image, " + p.diskFormat() + ", " + Bytes.human(p.sizeBytes()) + ")");
        out.println("  rootfs.parent.ref: " + p.messageHash());
        out.println("  file hash:         " + p.imageSha256());
        out.println("Use it in an INSTANCE message: \"environment\": {\"hypervisor\": \"qemu\"}, \"rootfs\": {\"parent\": {\"ref\": \""
                + p.messageHash() + "\"}, \"size_mib\": " + sizeMib + "}");
        return Main.OK;
    }
}
