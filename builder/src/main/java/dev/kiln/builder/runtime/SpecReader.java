package dev.kiln.builder.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.message.ValidationError;
import dev.kiln.guest.GuestInit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns one parsed spec document into a {@link RuntimeSpec}, checking every field. It collects every
 * problem of the spec before failing, so the user fixes them in one go. One reader per document.
 */
final class SpecReader {
    static final String DEFAULT_MIRROR = "http://deb.debian.org/debian";
    /** 2024-01-01T00:00:00Z: a fixed default, so a spec without the field still builds reproducibly. */
    static final long DEFAULT_SOURCE_DATE_EPOCH = 1_704_067_200L;
    /** Debian suites Kiln builds from, with their release numbers (for messages). */
    static final Map<String, String> SUITES = Map.of("bookworm", "Debian 12", "bullseye", "Debian 11", "jammy", "Ubuntu 22.04");
    private static final Set<String> FUNCTION_SUITES = Set.of("bookworm", "bullseye");

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private static final Pattern APT_PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+|/[a-z0-9-]+)?");
    private static final Pattern PIP_REQUIREMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._\\[\\],-]*([=<>!~]=?[A-Za-z0-9.*+!,=<>~-]+)?");
    private static final Pattern NPM_PACKAGE = Pattern.compile("(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9.^~<>=*|+ -]+)?");
    private static final Pattern MIRROR = Pattern.compile("https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/%+-]*)?");
    private static final Pattern MODE = Pattern.compile("0?[0-7]{3,4}");
    /** Directories a {@code remove_paths} entry may never be: removing them breaks every runtime. */
    private static final Set<String> PROTECTED = Set.of("/", "/bin", "/sbin", "/lib", "/lib64", "/usr", "/usr/bin",
            "/usr/sbin", "/usr/lib", "/etc", "/root", "/proc", "/sys", "/dev", "/run", "/tmp", "/mnt", "/var");
    /** Paths the init occupies; a spec's files may not replace them. */
    private static final Set<String> RESERVED_FILES = Set.of(GuestInit.INIT0_PATH, GuestInit.RUNTIME_INFO_PATH);

    private final String source;
    private final Path directory;
    private final List<ValidationError> errors = new ArrayList<>();

    SpecReader(String source, Path directory) {
        this.source = source;
        this.directory = directory;
    }

    RuntimeSpec read(JsonNode root) {
        keys(root, "", "spec", "kind", "name", "description", "base", "architecture", "packages", "files", "init", "slim",
                "output", "source_date_epoch");
        JsonNode format = root.get("spec");
        if (format == null) {
            error("spec", "missing: the first line of a spec file is 'spec: " + RuntimeSpec.FORMAT + "'");
        } else if (!format.isInt() || format.intValue() != RuntimeSpec.FORMAT) {
            error("spec", "this Kiln reads spec format " + RuntimeSpec.FORMAT + ", got " + format);
        }
        String name = string(root, "name", "name", null, true);
        if (name != null && !NAME.matcher(name).matches()) {
            error("name", "must be lower-case letters, digits, '.', '-' or '_' (at most 63, starting with a letter or digit), got '" + name + "'");
        }
        String description = string(root, "description", "description", "", false);
        RuntimeSpec.Base base = base(root.get("base"));
        String arch = architecture(root.get("architecture"));
        RuntimeSpec.Packages packages = packages(root.get("packages"));
        List<RuntimeSpec.ExtraFile> files = files(root.get("files"));
        String kind = string(root, "kind", "kind", RuntimeSpec.FUNCTION, false);
        if (kind != null && !kind.equals(RuntimeSpec.FUNCTION) && !kind.equals(RuntimeSpec.INSTANCE_ROOTFS)
                && !kind.equals(RuntimeSpec.QEMU_DISK_IMAGE)) {
            error("kind", "must be 'function' (the default: Kiln's init, for programs), 'instance-rootfs'"
                    + " (systemd, sshd and cloud-init, for instances) or 'qemu-disk-image' (the same as a whole"
                    + " bootable disk with the distribution's kernel), got '" + kind + "'");
            kind = null;
        }
        boolean disk = RuntimeSpec.QEMU_DISK_IMAGE.equals(kind);
        boolean instance = disk || RuntimeSpec.INSTANCE_ROOTFS.equals(kind);
        String expectedInit = instance ? "systemd" : "kiln";
        JsonNode init = root.get("init");
        if (init != null && !(init.isTextual() && init.textValue().equals(expectedInit))) {
            error("init", instance
                    ? "an instance image boots systemd: write 'init: systemd' or leave init out, got " + init
                    : "a function runtime's init is 'kiln' (init0 at /sbin/init, init1 at /root/kiln_init1), got " + init);
        }
        if (!instance && base != null && !FUNCTION_SUITES.contains(base.suite())) {
            error("base.suite", "function runtimes are built from Debian bookworm or bullseye; "
                    + SUITES.get(base.suite()) + " is for kind instance-rootfs only");
        }
        RuntimeSpec.Slim slim = slim(root.get("slim"));
        RuntimeSpec.Output output = output(root.get("output"), disk);
        long epoch = DEFAULT_SOURCE_DATE_EPOCH;
        JsonNode sde = root.get("source_date_epoch");
        if (sde != null) {
            if (!sde.canConvertToLong() || !sde.isIntegralNumber() || sde.longValue() < 0 || sde.longValue() > 4_102_444_800L) {
                error("source_date_epoch", "must be a number of seconds since 1970 (e.g. 1704067200), got " + sde);
            } else {
                epoch = sde.longValue();
            }
        }
        if (packages != null && base != null) crossCheck(packages);
        if (!errors.isEmpty()) throw new RuntimeSpecException(source, errors);
        return new RuntimeSpec(kind, name, description, base, arch, packages, files, slim, output, epoch, directory);
    }

    private void crossCheck(RuntimeSpec.Packages packages) {
        if (!packages.pip().isEmpty() && packages.apt().stream().noneMatch(p -> p.startsWith("python3-pip"))) {
            error("packages.pip", "pip packages need pip in the runtime: add python3-pip to packages.apt");
        }
        if (!packages.npm().isEmpty() && packages.apt().stream().noneMatch(p -> p.equals("npm") || p.startsWith("npm="))) {
            error("packages.npm", "npm packages need npm in the runtime: add npm to packages.apt");
        }
    }

    private RuntimeSpec.Base base(JsonNode node) {
        if (node == null) {
            error("base", "missing: e.g. 'base: {suite: bookworm}'");
            return null;
        }
        if (!node.isObject()) {
            error("base", "must be a mapping with 'suite' (and optionally 'mirror'), got " + node);
            return null;
        }
        keys(node, "base", "suite", "mirror");
        String suite = string(node, "suite", "base.suite", null, true);
        if (suite != null && !SUITES.containsKey(suite)) {
            error("base.suite", "Kiln builds from Debian bookworm (12), bullseye (11) or, for instances, Ubuntu jammy"
                    + " (22.04), got '" + suite + "'");
        }
        String mirror = string(node, "mirror", "base.mirror", DEFAULT_MIRROR, false);
        if (mirror != null && !MIRROR.matcher(mirror).matches()) {
            error("base.mirror", "must be an http:// or https:// URL of a Debian archive, got '" + mirror + "'");
        }
        return suite == null || mirror == null ? null : new RuntimeSpec.Base(suite, stripSlash(mirror));
    }

    private String architecture(JsonNode node) {
        if (node == null) return RuntimeSpec.X86_64;
        String arch = node.isTextual() ? node.textValue() : node.toString();
        if (arch.equals(RuntimeSpec.X86_64) || arch.equals("amd64")) return RuntimeSpec.X86_64;
        error("architecture", "'" + arch + "' is not supported: Kiln's guest kernel and VMs are x86_64 only,"
                + " so runtimes are built for x86_64 (amd64); remove the field or set it to x86_64");
        return RuntimeSpec.X86_64;
    }

    private RuntimeSpec.Packages packages(JsonNode node) {
        if (node == null) return new RuntimeSpec.Packages(List.of(), List.of(), List.of());
        if (!node.isObject()) {
            error("packages", "must be a mapping with 'apt' (and optionally 'pip', 'npm') lists, got " + node);
            return null;
        }
        keys(node, "packages", "apt", "pip", "npm");
        return new RuntimeSpec.Packages(
                names(node.get("apt"), "packages.apt", APT_PACKAGE, "a Debian package name (optionally =version or /suite)"),
                names(node.get("pip"), "packages.pip", PIP_REQUIREMENT, "a PyPI requirement such as 'uvicorn' or 'uvicorn==0.30.1'"),
                names(node.get("npm"), "packages.npm", NPM_PACKAGE, "an npm package such as 'express' or 'express@4'"));
    }

    private List<String> names(JsonNode node, String path, Pattern pattern, String what) {
        List<String> values = stringList(node, path);
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            if (!pattern.matcher(v).matches()) error(path + "[" + i + "]", "must be " + what + ", got '" + v + "'");
            else if (!seen.add(v)) error(path + "[" + i + "]", "'" + v + "' is listed twice");
        }
        return values;
    }

    private List<RuntimeSpec.ExtraFile> files(JsonNode node) {
        List<RuntimeSpec.ExtraFile> files = new ArrayList<>();
        if (node == null) return files;
        if (!node.isArray()) {
            error("files", "must be a list of {path, content | source, mode}, got " + node);
            return files;
        }
        Set<String> paths = new LinkedHashSet<>();
        for (int i = 0; i < node.size(); i++) {
            String at = "files[" + i + "]";
            JsonNode f = node.get(i);
            if (!f.isObject()) {
                error(at, "must be a mapping {path, content | source, mode}, got " + f);
                continue;
            }
            keys(f, at, "path", "content", "source", "mode");
            String path = string(f, "path", at + ".path", null, true);
            if (path != null) {
                String problem = absolutePathProblem(path);
                if (problem != null) error(at + ".path", problem);
                else if (reserved(path)) error(at + ".path", path + " is written by Kiln's init; choose another path");
                else if (!paths.add(path)) error(at + ".path", path + " is listed twice");
            }
            String content = string(f, "content", at + ".content", null, false);
            String src = string(f, "source", at + ".source", null, false);
            if ((content == null) == (src == null)) {
                error(at, "needs exactly one of 'content' (the text) or 'source' (a file next to the spec)");
            }
            if (src != null) {
                Path rel = Path.of(src);
                if (rel.isAbsolute() || src.contains("..") || src.isBlank()) {
                    error(at + ".source", "must be a path relative to the spec file's directory, without '..', got '" + src + "'");
                } else if (directory == null) {
                    error(at + ".source", "this spec has no directory to read '" + src + "' from; use 'content' instead");
                } else if (!Files.isRegularFile(directory.resolve(rel))) {
                    error(at + ".source", "no such file: " + directory.resolve(rel));
                }
            }
            int mode = 0644;
            JsonNode m = f.get("mode");
            if (m != null) {
                // YAML turns an unquoted 0755 into the number 493 and 755 into 755: only a quoted
                // string says for sure which bits were meant.
                if (!m.isTextual()) {
                    error(at + ".mode", "write the mode as a quoted octal string, e.g. mode: \"0755\" (YAML reads an unquoted"
                            + " mode as a number), got " + m);
                } else if (!MODE.matcher(m.textValue()).matches()) {
                    error(at + ".mode", "must be octal permission bits such as \"0644\" or \"0755\", got '" + m.textValue() + "'");
                } else {
                    mode = Integer.parseInt(m.textValue(), 8);
                }
            }
            if (path != null && (content != null || src != null)) files.add(new RuntimeSpec.ExtraFile(path, content, src, mode));
        }
        return files;
    }

    private RuntimeSpec.Slim slim(JsonNode node) {
        if (node == null) return new RuntimeSpec.Slim(true, true, true, RuntimeSpec.Slim.PRECOMPILE, List.of(), List.of());
        if (!node.isObject()) {
            error("slim", "must be a mapping (docs, locales, package_data, bytecode, remove_packages, remove_paths), got " + node);
            return new RuntimeSpec.Slim(true, true, true, RuntimeSpec.Slim.PRECOMPILE, List.of(), List.of());
        }
        keys(node, "slim", "docs", "locales", "package_data", "bytecode", "remove_packages", "remove_paths");
        boolean docs = bool(node, "docs", "slim.docs", true);
        boolean locales = bool(node, "locales", "slim.locales", true);
        boolean packageData = bool(node, "package_data", "slim.package_data", true);
        String bytecode = string(node, "bytecode", "slim.bytecode", RuntimeSpec.Slim.PRECOMPILE, false);
        if (bytecode != null && !bytecode.equals(RuntimeSpec.Slim.PRECOMPILE) && !bytecode.equals(RuntimeSpec.Slim.REMOVE)) {
            error("slim.bytecode", "must be 'precompile' (ship deterministic .pyc files) or 'remove' (ship none), got '" + bytecode + "'");
        }
        List<String> packages = names(node.get("remove_packages"), "slim.remove_packages", APT_PACKAGE, "a Debian package name");
        List<String> paths = stringList(node.get("remove_paths"), "slim.remove_paths");
        for (int i = 0; i < paths.size(); i++) {
            String p = paths.get(i);
            String problem = absolutePathProblem(p);
            if (problem != null) error("slim.remove_paths[" + i + "]", problem);
            else if (PROTECTED.contains(stripSlash(p)) || p.substring(0, p.lastIndexOf('/') + 1).contains("*")) {
                error("slim.remove_paths[" + i + "]", "'" + p + "' would break every runtime (or has a glob before the last"
                        + " component); name the directories to remove, e.g. /usr/share/zoneinfo");
            } else if (reserved(p)) {
                error("slim.remove_paths[" + i + "]", p + " is Kiln's init; it cannot be removed");
            }
        }
        return new RuntimeSpec.Slim(docs, locales, packageData, bytecode, packages, paths);
    }

    private RuntimeSpec.Output output(JsonNode node, boolean disk) {
        if (disk) return diskOutput(node);
        RuntimeSpec.Output fallback = new RuntimeSpec.Output(RuntimeSpec.Output.SQUASHFS, "zstd", 0);
        if (node == null) return fallback;
        if (!node.isObject()) {
            error("output", "must be a mapping (format, compression, level), got " + node);
            return fallback;
        }
        keys(node, "output", "format", "compression", "level");
        String format = string(node, "format", "output.format", RuntimeSpec.Output.SQUASHFS, false);
        if (format == null) return fallback;
        int level = 0;
        JsonNode l = node.get("level");
        if (l != null && (!l.isInt() || l.intValue() < 1)) error("output.level", "must be a positive whole number, got " + l);
        else if (l != null) level = l.intValue();
        switch (format) {
            case RuntimeSpec.Output.SQUASHFS -> {
                String c = string(node, "compression", "output.compression", "zstd", false);
                if (c == null) return fallback;
                switch (c) {
                    case "zstd" -> {
                        if (level > 22) error("output.level", "zstd levels are 1 to 22, got " + level);
                    }
                    case "gzip" -> {
                        if (level > 9) error("output.level", "gzip levels are 1 to 9, got " + level);
                    }
                    case "xz", "lz4" -> {
                        if (l != null) error("output.level", c + " has no level in mksquashfs; remove output.level");
                    }
                    default -> error("output.compression", "squashfs compressors are zstd (default), xz, gzip and lz4, got '" + c + "'"
                            + " (the guest kernel reads zstd, xz, gzip and lz4)");
                }
                return new RuntimeSpec.Output(format, c, level);
            }
            case RuntimeSpec.Output.EXT4 -> {
                JsonNode c = node.get("compression");
                if (c != null && !(c.isTextual() && c.textValue().equals("none"))) {
                    error("output.compression", "ext4 images are not compressed; remove output.compression or use format squashfs");
                }
                if (l != null) error("output.level", "ext4 images are not compressed; remove output.level");
                return new RuntimeSpec.Output(format, "none", 0);
            }
            default -> {
                error("output.format", "must be squashfs (read-only, the default) or ext4, got '" + format + "'"
                        + (format.equals(RuntimeSpec.Output.DISK) ? " (disk is for kind qemu-disk-image)" : ""));
                return fallback;
            }
        }
    }

    /** A qemu-disk-image is always a raw partitioned disk; its output may only say so. */
    private RuntimeSpec.Output diskOutput(JsonNode node) {
        RuntimeSpec.Output disk = new RuntimeSpec.Output(RuntimeSpec.Output.DISK, "none", 0);
        if (node == null) return disk;
        if (!node.isObject()) {
            error("output", "must be a mapping (format), got " + node);
            return disk;
        }
        keys(node, "output", "format");
        String format = string(node, "format", "output.format", RuntimeSpec.Output.DISK, false);
        if (format != null && !format.equals(RuntimeSpec.Output.DISK)) {
            error("output.format", "a qemu-disk-image is a whole disk: write 'format: disk' or leave output out, got '"
                    + format + "'");
        }
        return disk;
    }

    // --- helpers

    private void keys(JsonNode node, String path, String... allowed) {
        Set<String> known = Set.of(allowed);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                error(path.isEmpty() ? key : path + "." + key, "unknown key; expected one of " + String.join(", ", allowed));
            }
        }
    }

    private String string(JsonNode parent, String key, String path, String fallback, boolean required) {
        JsonNode node = parent.get(key);
        if (node == null || node.isNull()) {
            if (required) error(path, "missing");
            return fallback;
        }
        if (!node.isTextual()) {
            error(path, "must be text, got " + node);
            return null;
        }
        if (required && node.textValue().isBlank()) {
            error(path, "must not be empty");
            return null;
        }
        return node.textValue();
    }

    private boolean bool(JsonNode parent, String key, String path, boolean fallback) {
        JsonNode node = parent.get(key);
        if (node == null || node.isNull()) return fallback;
        if (!node.isBoolean()) {
            error(path, "must be true or false, got " + node);
            return fallback;
        }
        return node.booleanValue();
    }

    private List<String> stringList(JsonNode node, String path) {
        List<String> values = new ArrayList<>();
        if (node == null || node.isNull()) return values;
        if (!node.isArray()) {
            error(path, "must be a list, e.g. [python3, python3-fastapi], got " + node);
            return values;
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode v = node.get(i);
            if (!v.isTextual()) error(path + "[" + i + "]", "must be text, got " + v);
            else values.add(v.textValue());
        }
        return values;
    }

    private static String absolutePathProblem(String p) {
        if (!p.startsWith("/")) return "must be an absolute path in the image, got '" + p + "'";
        for (String part : p.split("/")) {
            if (part.equals("..") || part.equals(".")) return "must not contain '.' or '..' components, got '" + p + "'";
        }
        if (p.contains("//") || p.indexOf('\0') >= 0 || p.contains("\n")) return "is not a clean path: '" + p + "'";
        return null;
    }

    private void error(String path, String reason) {
        errors.add(new ValidationError(path, reason));
    }

    /** The init's files, and anything inside the agent's package directory. */
    private static boolean reserved(String path) {
        return RESERVED_FILES.contains(path) || path.equals(GuestInit.INIT1_PATH) || path.startsWith(GuestInit.INIT1_PATH + "/");
    }

    private static String stripSlash(String s) {
        return s.length() > 1 && s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
