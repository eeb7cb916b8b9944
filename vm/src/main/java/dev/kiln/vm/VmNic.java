package dev.kiln.vm;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A VM's network card: the TAP device the node already made for it and the guest-side MAC. The vm
 * module only plugs the card in; addresses, rules and forwards are the network module's business,
 * so vm keeps no dependency on it.
 *
 * @param tapName the host's TAP device, opened by the VMM (it must exist before the boot)
 * @param mac     the guest NIC's address, {@code aa:bb:cc:dd:ee:ff}
 */
public record VmNic(String tapName, String mac) {
    // IFNAMSIZ is 16 with the terminating NUL; no comma (QEMU's option separator) can get in
    private static final Pattern TAP = Pattern.compile("[A-Za-z0-9._-]{1,15}");
    private static final Pattern MAC = Pattern.compile("(?:[0-9a-f]{2}:){5}[0-9a-f]{2}");

    public VmNic {
        Objects.requireNonNull(tapName, "tapName");
        Objects.requireNonNull(mac, "mac");
        if (!TAP.matcher(tapName).matches()) {
            throw new IllegalArgumentException("TAP device name '" + tapName + "' is not an interface name (1-15 of A-Za-z0-9._-)");
        }
        if (!MAC.matcher(mac).matches()) {
            throw new IllegalArgumentException("MAC '" + mac + "' is not six lower-case hex pairs separated by ':'");
        }
    }
}
