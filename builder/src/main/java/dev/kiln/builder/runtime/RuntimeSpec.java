package dev.kiln.builder.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A parsed and validated runtime spec (docs/runtimes.md): what to bootstrap, what to install, how
 * to slim and pack it. Built by {@link RuntimeSpecs}; every instance is valid.
 *
 * @param kind            {@link #FUNCTION} (Kiln's init, booted by programs), {@link #INSTANCE_ROOTFS}
 *                        (systemd, sshd and cloud-init, booted as an instance's root: docs/instances.md)
 *                        or {@link #QEMU_DISK_IMAGE} (the same plus the distribution's kernel and a
 *                        bootloader, packed as a whole partitioned disk)
 * @param name            the runtime's name: {@code [a-z0-9][a-z0-9.-]*}, written to /etc/kiln/runtime
 * @param description     one line for {@code kiln runtime list}
 * @param base            the Debian base system
 * @param architecture    always {@code x86_64}: Kiln's guest kernel and VMs are x86_64 only
 * @param packages        what to install on top of the base
 * @param files           extra files written into the image after the packages
 * @param slim            what to strip to make the image small
 * @param output          the image's filesystem and compression
 * @param sourceDateEpoch the timestamp every file in the image gets (reproducible builds)
 * @param directory       the spec file's directory, against which {@code files[].source} resolve;
 *                        null for the bundled official specs (they have no sources)
 */
public record RuntimeSpec(String kind, String name, String description, Base base, String architecture, Packages packages,
                          List<ExtraFile> files, Slim slim, Output output, long sourceDateEpoch, Path directory) {

    /** The format version of spec files this Kiln reads ({@code spec: 1}). */
    public static final int FORMAT = 1;
    public static final String X86_64 = "x86_64";
    /** Spec kinds, named like the catalogue's kinds (docs/catalogue.md). */
    public static final String FUNCTION = "function";
    public static final String INSTANCE_ROOTFS = "instance-rootfs";
    public static final String QEMU_DISK_IMAGE = "qemu-disk-image";

    public RuntimeSpec {
        kind = kind == null ? FUNCTION : kind;
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(packages, "packages");
        Objects.requireNonNull(slim, "slim");
        Objects.requireNonNull(output, "output");
        description = description == null ? "" : description;
        architecture = architecture == null ? X86_64 : architecture;
        files = files == null ? List.of() : List.copyOf(files);
    }

    /** True for an instance's image (root filesystem or whole disk): systemd is its init, not Kiln's init0/init1. */
    public boolean instance() {
        return kind.equals(INSTANCE_ROOTFS) || kind.equals(QEMU_DISK_IMAGE);
    }

    /** True for a whole-disk image: partitioned, with its own kernel and bootloader. */
    public boolean disk() {
        return kind.equals(QEMU_DISK_IMAGE);
    }

    /** The init the image boots: {@code kiln} or {@code systemd}. */
    public String init() {
        return instance() ? "systemd" : "kiln";
    }

    /**
     * The Debian base: {@code debootstrap --variant=minbase <suite> <root> <mirror>}.
     *
     * @param suite  {@code bookworm} or {@code bullseye}
     * @param mirror the archive to install from, e.g. {@code http://deb.debian.org/debian}
     */
    public record Base(String suite, String mirror) {
        public Base {
            Objects.requireNonNull(suite, "suite");
            Objects.requireNonNull(mirror, "mirror");
        }
    }

    /** Packages from Debian (apt, in the chroot), and optionally from PyPI (pip) and npm. */
    public record Packages(List<String> apt, List<String> pip, List<String> npm) {
        public Packages {
            apt = apt == null ? List.of() : List.copyOf(apt);
            pip = pip == null ? List.of() : List.copyOf(pip);
            npm = npm == null ? List.of() : List.copyOf(npm);
        }
    }

    /**
     * A file written into the image: either inline {@code content} or a {@code source} file next
     * to the spec (exactly one of them).
     *
     * @param path    absolute path in the image
     * @param content the file's text, or null
     * @param source  path of a file relative to the spec's directory, or null
     * @param mode    permission bits, e.g. {@code 0644}
     */
    public record ExtraFile(String path, String content, String source, int mode) {
        public ExtraFile {
            Objects.requireNonNull(path, "path");
        }
    }

    /**
     * Size reductions, applied after the SBOM is captured.
     *
     * @param docs            remove /usr/share/doc (copyright files are kept), man and info pages
     * @param locales         remove translations and locale data (the C.UTF-8 locale stays)
     * @param packageData     remove apt's lists and caches and dpkg's database
     * @param bytecode        {@code precompile}: compile every Python module ahead of time with
     *                        unchecked-hash .pyc files (fast first import on a read-only root,
     *                        deterministic); {@code remove}: ship no .pyc at all
     * @param removePackages  packages whose files are deleted because nothing needs them at run
     *                        time (perl-base, apt, dpkg…); refused if a kept package depends on one
     * @param removePaths     more paths (absolute, globs allowed in the last component) to delete
     */
    public record Slim(boolean docs, boolean locales, boolean packageData, String bytecode,
                       List<String> removePackages, List<String> removePaths) {
        public static final String PRECOMPILE = "precompile";
        public static final String REMOVE = "remove";

        public Slim {
            bytecode = bytecode == null ? PRECOMPILE : bytecode;
            removePackages = removePackages == null ? List.of() : List.copyOf(removePackages);
            removePaths = removePaths == null ? List.of() : List.copyOf(removePaths);
        }
    }

    /**
     * @param format      {@code squashfs} (read-only, what init0 expects), {@code ext4}, or
     *                    {@code disk} (a raw disk: MBR, one ext4 partition, GRUB for BIOS)
     * @param compression squashfs compressor: {@code zstd}, {@code xz}, {@code gzip}, {@code lz4}
     * @param level       compression level, or 0 for the compressor's default
     */
    public record Output(String format, String compression, int level) {
        public static final String SQUASHFS = "squashfs";
        public static final String EXT4 = "ext4";
        public static final String DISK = "disk";

        public Output {
            Objects.requireNonNull(format, "format");
            compression = compression == null ? "" : compression;
        }

        /** The image file's extension. */
        public String extension() {
            return switch (format) {
                case SQUASHFS -> "squashfs";
                case DISK -> "img";
                default -> "ext4";
            };
        }
    }

    /**
     * The spec's identity: SHA-256 of its canonical JSON form (every field, defaults filled in,
     * inline file contents included). Comments and key order in the file do not change it.
     * Source files are hashed by the builder, which reads them.
     */
    public ItemHash hash() {
        return ItemHash.sha256Of(canonicalJson().getBytes(StandardCharsets.UTF_8));
    }

    /** The spec as canonical JSON, as recorded in the manifest. */
    public String canonicalJson() {
        try {
            return CANONICAL.writeValueAsString(toJson());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a spec always serialises", e);
        }
    }

    /** The spec as a JSON tree (the manifest embeds it). */
    public ObjectNode toJson() {
        ObjectNode n = CANONICAL.createObjectNode();
        n.put("spec", FORMAT);
        // Only written when not the default, so function runtimes keep the hashes (and cached
        // images) they had before kinds existed.
        if (!kind.equals(FUNCTION)) n.put("kind", kind);
        n.put("name", name);
        n.put("description", description);
        ObjectNode b = n.putObject("base");
        b.put("suite", base.suite());
        b.put("mirror", base.mirror());
        n.put("architecture", architecture);
        ObjectNode p = n.putObject("packages");
        strings(p.putArray("apt"), packages.apt());
        strings(p.putArray("pip"), packages.pip());
        strings(p.putArray("npm"), packages.npm());
        ArrayNode fs = n.putArray("files");
        for (ExtraFile f : files) {
            ObjectNode o = fs.addObject();
            o.put("path", f.path());
            if (f.content() != null) o.put("content", f.content());
            if (f.source() != null) o.put("source", f.source());
            o.put("mode", String.format("%04o", f.mode()));
        }
        n.put("init", init());
        ObjectNode s = n.putObject("slim");
        s.put("docs", slim.docs());
        s.put("locales", slim.locales());
        s.put("package_data", slim.packageData());
        s.put("bytecode", slim.bytecode());
        strings(s.putArray("remove_packages"), slim.removePackages());
        strings(s.putArray("remove_paths"), slim.removePaths());
        ObjectNode o = n.putObject("output");
        o.put("format", output.format());
        o.put("compression", output.compression());
        o.put("level", output.level());
        n.put("source_date_epoch", sourceDateEpoch);
        return n;
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }

    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
}
