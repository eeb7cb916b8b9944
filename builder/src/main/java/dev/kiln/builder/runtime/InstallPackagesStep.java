package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.KeyLock;
import dev.kiln.builder.step.StepProgress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;

/**
 * Installs the spec's packages in the chroot: apt (from the same archive state as the base, so no
 * {@code apt-get update}: the base's package lists are the ones its key names), then pip and npm.
 * Services are kept from starting with a policy-rc.d for the duration.
 */
final class InstallPackagesStep implements BuildStep {

    private final RuntimeSpec spec;
    private final RootFs root;
    private final Chroot chroot;
    private final Path packageCache;

    InstallPackagesStep(RuntimeSpec spec, RootFs root, Chroot chroot, Path packageCache) {
        this.spec = spec;
        this.root = root;
        this.chroot = chroot;
        this.packageCache = packageCache;
    }

    @Override
    public String name() {
        return "InstallPackages";
    }

    @Override
    public Duration typicalDuration() {
        RuntimeSpec.Packages p = spec.packages();
        return Duration.ofSeconds(3 + 2L * p.apt().size() + 10L * p.pip().size() + 10L * p.npm().size());
    }

    @Override
    public void run(StepProgress progress) throws IOException, InterruptedException {
        RuntimeSpec.Packages p = spec.packages();
        Path policy = root.resolve("/usr/sbin/policy-rc.d");
        Files.writeString(policy, "#!/bin/sh\n# written by the Kiln runtime builder while it installs packages\nexit 101\n");
        Files.setPosixFilePermissions(policy, PosixFilePermissions.fromString("rwxr-xr-x"));
        try {
            int parts = (p.apt().isEmpty() ? 0 : 1) + (p.pip().isEmpty() ? 0 : 1) + (p.npm().isEmpty() ? 0 : 1);
            double share = parts == 0 ? 1 : 1.0 / parts;
            double done = 0;
            if (!p.apt().isEmpty()) {
                apt(p.apt(), progress, done, share);
                done += share;
            }
            if (!p.pip().isEmpty()) {
                pip(p.pip(), progress, done);
                done += share;
            }
            if (!p.npm().isEmpty()) npm(p.npm(), progress, done);
        } finally {
            Files.deleteIfExists(policy);
        }
    }

    private void apt(List<String> packages, StepProgress progress, double base, double share)
            throws IOException, InterruptedException {
        // No APT::Status-Fd=1: apt makes its status descriptor non-blocking, and maintainer scripts
        // sharing that pipe then fail their writes (ca-certificates' postinst does). The plain
        // output has what progress needs.
        List<String> argv = new ArrayList<>(List.of("apt-get", "install", "--yes", "--no-install-recommends",
                "-o", "Dpkg::Use-Pty=0", "-o", "Acquire::Retries=3",
                "-o", "Dpkg::Options::=--force-unsafe-io"));
        argv.addAll(packages);
        try (KeyLock _ = PackageCache.lock(packageCache)) {
            AptProgress parse = new AptProgress(progress, base, share);
            chroot.run(argv, parse::line);
        } catch (IOException e) {
            throw new IOException("apt could not install " + String.join(" ", packages)
                    + " (a misspelt or missing package shows as 'Unable to locate package' above): " + e.getMessage(), e);
        }
    }

    /**
     * Reads apt's plain output: "N newly installed" gives the count, then each package shows as
     * "Get:", "Unpacking" and "Setting up".
     */
    private static final class AptProgress {
        private static final java.util.regex.Pattern COUNT = java.util.regex.Pattern.compile("(\\d+) upgraded, (\\d+) newly installed");
        private final StepProgress progress;
        private final double base;
        private final double share;
        private int expected = 1;
        private int fetched;
        private int unpacked;
        private int configured;

        AptProgress(StepProgress progress, double base, double share) {
            this.progress = progress;
            this.base = base;
            this.share = share;
        }

        void line(String text) {
            Matcher m = COUNT.matcher(text);
            if (m.find()) {
                expected = Math.max(1, Integer.parseInt(m.group(1)) + Integer.parseInt(m.group(2)));
            } else if (text.startsWith("Get:")) {
                report(0.25 * fraction(++fetched), text);
            } else if (text.startsWith("Unpacking ")) {
                report(0.25 + 0.35 * fraction(++unpacked), text);
            } else if (text.startsWith("Setting up ")) {
                report(0.6 + 0.4 * fraction(++configured), text);
            }
        }

        private double fraction(int n) {
            return Math.min(1, (double) n / expected);
        }

        private void report(double fraction, String text) {
            progress.report(base + share * fraction, text.length() > 60 ? text.substring(0, 60) : text);
        }
    }

    private void pip(List<String> requirements, StepProgress progress, double base) throws IOException, InterruptedException {
        progress.report(base, "pip install " + String.join(" ", requirements));
        List<String> argv = new ArrayList<>(List.of("python3", "-m", "pip", "install", "--no-cache-dir", "--no-compile",
                "--disable-pip-version-check", "--root-user-action=ignore"));
        // Debian 12 marks its Python as externally managed (PEP 668); Kiln installs into /usr/local
        // of an image nobody runs apt in afterwards, which is the case the flag exists for.
        if (!spec.base().suite().equals("bullseye")) argv.add("--break-system-packages");
        argv.addAll(requirements);
        try {
            chroot.run(argv, line -> { });
        } catch (IOException e) {
            throw new IOException("pip could not install " + String.join(" ", requirements) + ": " + e.getMessage(), e);
        }
    }

    private void npm(List<String> packages, StepProgress progress, double base) throws IOException, InterruptedException {
        progress.report(base, "npm install " + String.join(" ", packages));
        List<String> argv = new ArrayList<>(List.of("npm", "install", "--global", "--no-fund", "--no-audit",
                "--no-update-notifier", "--cache", "/tmp/kiln-npm-cache"));
        argv.addAll(packages);
        try {
            chroot.run(argv, line -> { });
        } catch (IOException e) {
            throw new IOException("npm could not install " + String.join(" ", packages) + ": " + e.getMessage(), e);
        }
    }
}
