package dev.kiln.builder.kernel;

import dev.kiln.builder.step.ExternalCommand;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Finds the kernel source that Debian's {@code linux-source-6.1} package installed. The package
 * version (e.g. {@code 6.1.192-2}) is read from dpkg rather than from the file name, because the
 * tarball's name does not change between Debian's security updates while its content does.
 */
final class KernelSourceLocator {

    static final String PACKAGE = "linux-source-6.1";
    static final String STEP = "LocateKernelSource";

    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(30);
    private static final String INSTALL_HINT =
            "run scripts/setup.sh (or: sudo apt-get install " + PACKAGE + ")";

    KernelSource locate() throws KernelBuildException, InterruptedException {
        String status;
        try {
            status = dpkgQuery("-W", "-f=${Status}\t${Version}", PACKAGE);
        } catch (IOException e) {
            throw new KernelBuildException(STEP, "the Debian package " + PACKAGE
                    + " is not installed (" + e.getMessage() + "); " + INSTALL_HINT);
        }
        String[] parts = status.split("\t", 2);
        if (parts.length != 2 || !parts[0].endsWith("installed") || parts[0].contains("not-installed")) {
            throw new KernelBuildException(STEP, "the Debian package " + PACKAGE
                    + " is not fully installed (dpkg status: " + parts[0] + "); " + INSTALL_HINT);
        }
        String version = parts[1].strip();
        Path tarball = tarballOf(installedFiles());
        if (tarball == null || !Files.isReadable(tarball)) {
            throw new KernelBuildException(STEP, "the package " + PACKAGE + " " + version
                    + " is installed but its source tarball is missing or unreadable; reinstall it: sudo apt-get install --reinstall " + PACKAGE);
        }
        return new KernelSource(tarball, version);
    }

    /** The source tarball among a package's files: {@code /usr/src/linux-source-<x>.tar.xz}. */
    static Path tarballOf(List<String> packageFiles) {
        return packageFiles.stream()
                .map(String::strip)
                .filter(f -> f.startsWith("/usr/src/linux-source-") && f.endsWith(".tar.xz"))
                .map(Path::of)
                .findFirst().orElse(null);
    }

    private List<String> installedFiles() throws KernelBuildException, InterruptedException {
        try {
            return Arrays.asList(dpkgQuery("-L", PACKAGE).split("\n"));
        } catch (IOException e) {
            throw new KernelBuildException(STEP, "cannot list the files of " + PACKAGE + ": " + e.getMessage());
        }
    }

    private static String dpkgQuery(String... args) throws IOException, InterruptedException {
        String[] argv = new String[args.length + 1];
        argv[0] = "dpkg-query";
        System.arraycopy(args, 0, argv, 1, args.length);
        return ExternalCommand.of(Path.of("/"), argv).capture(QUERY_TIMEOUT);
    }
}
