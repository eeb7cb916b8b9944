package dev.kiln.vm.qemu;

import dev.kiln.builder.step.ExternalCommand;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A tiny static PID 1 for the boot test, written in C so that the test needs no root filesystem:
 * it exercises what init0 and init1 rely on (squashfs on virtio-blk under a tmpfs overlay, the
 * named virtio-serial port, virtio-net, the virtio RNG, credited entropy, unix and inet sockets),
 * prints one {@code KILN-PROBE <check> ok|FAILED <detail>} line per check on the serial console,
 * then powers the VM off.
 */
final class ProbeInit {

    static final String SOURCE = """
            /* PID 1 of the kernel boot test: checks what Kiln's guests rely on, prints one line per check,
               then powers off so that QEMU exits on its own. */
            #include <dirent.h>
            #include <fcntl.h>
            #include <stdio.h>
            #include <string.h>
            #include <sys/mount.h>
            #include <sys/random.h>
            #include <sys/reboot.h>
            #include <sys/socket.h>
            #include <sys/stat.h>
            #include <sys/utsname.h>
            #include <time.h>
            #include <unistd.h>

            static void say(const char *what, int ok, const char *detail) {
                printf("KILN-PROBE %s %s %s\\n", what, ok ? "ok" : "FAILED", detail ? detail : "");
                fflush(stdout);
            }

            static int slurp(const char *path, char *buf, size_t size) {
                int fd = open(path, O_RDONLY);
                if (fd < 0) return -1;
                ssize_t n = read(fd, buf, size - 1);
                close(fd);
                if (n < 0) return -1;
                buf[n] = 0;
                if (n > 0 && buf[n - 1] == '\\n') buf[n - 1] = 0;
                return 0;
            }

            int main(void) {
                char buf[256];
                struct utsname u;
                mkdir("/proc", 0755); mkdir("/sys", 0755); mkdir("/dev", 0755);
                say("mount-proc", mount("proc", "/proc", "proc", 0, NULL) == 0, NULL);
                say("mount-sysfs", mount("sysfs", "/sys", "sysfs", 0, NULL) == 0, NULL);
                say("mount-devtmpfs", mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) == 0, NULL);
                uname(&u);
                say("uname", 1, u.release);

                /* init0's root: read-only squashfs on virtio-blk under a tmpfs overlay */
                mkdir("/ro", 0755); mkdir("/rw", 0755); mkdir("/merged", 0755);
                say("mount-squashfs", mount("/dev/vda", "/ro", "squashfs", MS_RDONLY, NULL) == 0, "/dev/vda");
                say("mount-tmpfs", mount("tmpfs", "/rw", "tmpfs", 0, "mode=0755") == 0, NULL);
                mkdir("/rw/upper", 0755); mkdir("/rw/work", 0755);
                say("mount-overlay", mount("overlay", "/merged", "overlay", 0,
                                           "lowerdir=/ro,upperdir=/rw/upper,workdir=/rw/work") == 0, NULL);
                say("read-through-overlay", slurp("/merged/marker", buf, sizeof buf) == 0, buf);
                int fd = open("/merged/written", O_CREAT | O_WRONLY, 0644);
                say("write-through-overlay", fd >= 0 && write(fd, "x", 1) == 1, NULL);
                if (fd >= 0) close(fd);
                say("delete-through-overlay", unlink("/merged/marker") == 0 && access("/ro/marker", F_OK) == 0, NULL);

                /* the host channel: a named virtio-serial port */
                DIR *ports = opendir("/sys/class/virtio-ports");
                struct dirent *e;
                int found = 0;
                while (ports && (e = readdir(ports)) != NULL) {
                    char path[300], name[128], dev[300];
                    if (e->d_name[0] == '.') continue;
                    snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
                    if (slurp(path, name, sizeof name) != 0) continue;
                    snprintf(dev, sizeof dev, "/dev/%s", e->d_name);
                    int p = open(dev, O_WRONLY);
                    const char *hello = "hello from the guest\\n";
                    int ok = p >= 0 && write(p, hello, strlen(hello)) == (ssize_t) strlen(hello);
                    if (p >= 0) close(p);
                    snprintf(path, sizeof path, "%s=%s", name, dev);
                    say("virtio-port", ok, path);
                    found = 1;
                }
                if (!found) say("virtio-port", 0, "none in /sys/class/virtio-ports");

                say("virtio-net", access("/sys/class/net/eth0", F_OK) == 0, "eth0");
                say("hw-random", slurp("/sys/class/misc/hw_random/rng_current", buf, sizeof buf) == 0, buf);
                unsigned char r[16];
                say("entropy-ready", getrandom(r, sizeof r, GRND_NONBLOCK) == sizeof r, NULL);
                int s;
                s = socket(AF_UNIX, SOCK_STREAM, 0); say("socket-unix", s >= 0, NULL); close(s);
                s = socket(AF_INET, SOCK_STREAM, 0); say("socket-inet", s >= 0, NULL); close(s);
                s = socket(AF_INET6, SOCK_STREAM, 0); say("socket-inet6", s >= 0, NULL); close(s);
                snprintf(buf, sizeof buf, "%ld", (long) time(NULL));
                say("wall-clock", 1, buf);

                say("poweroff", 1, NULL);
                reboot(RB_POWER_OFF);
                say("poweroff", 0, "reboot() returned");
                return 1;
            }
            """;

    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(120);

    private ProbeInit() {
    }

    /** A newc cpio archive holding only /init, compiled statically from {@link #SOURCE}. */
    static Path initramfs(Path dir) throws IOException, InterruptedException {
        Path tree = Files.createDirectories(dir.resolve("initramfs"));
        Path source = dir.resolve("probe.c");
        Files.writeString(source, SOURCE);
        ExternalCommand.of(dir, "gcc", "-static", "-Os", "-o", tree.resolve("init").toString(), source.toString())
                .capture(TOOL_TIMEOUT);
        Path archive = dir.resolve("probe.cpio");
        // cpio reads the names to archive from standard input.
        Path names = Files.writeString(dir.resolve("cpio-names"), "init\n");
        int status = new ExternalCommand(List.of("cpio", "-o", "-H", "newc", "--quiet", "-O", archive.toString()),
                tree, Map.of()).run(line -> { }, names, bytes -> { });
        if (status != 0) throw new IOException("cpio failed with status " + status);
        return archive;
    }

    /** A zstd squashfs holding one file, {@code marker}, with the given content. */
    static Path squashfsWithMarker(Path dir, String content) throws IOException, InterruptedException {
        Path tree = Files.createDirectories(dir.resolve("squashfs-root"));
        Files.writeString(tree.resolve("marker"), content + "\n");
        Path image = dir.resolve("root.squashfs");
        ExternalCommand.of(dir, "mksquashfs", tree.toString(), image.toString(),
                "-comp", "zstd", "-noappend", "-quiet", "-no-progress").capture(TOOL_TIMEOUT);
        return image;
    }
}
