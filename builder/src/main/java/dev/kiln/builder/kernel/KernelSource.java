package dev.kiln.builder.kernel;

import java.nio.file.Path;

/** Debian's kernel source tarball and the version of the package that installed it. */
record KernelSource(Path tarball, String version) {
}
