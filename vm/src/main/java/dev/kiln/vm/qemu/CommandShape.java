package dev.kiln.vm.qemu;

import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A QEMU command line with this machine's and this VM's paths replaced by placeholders
 * ({@code {kernel}}, {@code {drive:root}}, {@code {console-socket}}, …). Two VMs with equal shapes have
 * the same devices in the same order with the same options: what QEMU needs for a saved device
 * state to load into the other. Any change of Kiln's command line (a new device, another option)
 * changes the shape, so snapshots taken before it are refused, not mis-restored. A NIC's TAP and
 * MAC are placeholders too ({@code {tap}}, {@code {mac}}): a restored copy runs on its own TAP, and
 * its agent takes the copy's MAC itself (the saved device state brings the saved one back).
 */
final class CommandShape {
    private CommandShape() {
    }

    /** @param plain the command of {@link QemuCommandLine#of} (no guest RAM file, no incoming) */
    static List<String> of(QemuCommandLine plain, VmSpec spec, VmFiles files) {
        Map<String, String> placeholders = new LinkedHashMap<>();
        placeholders.put(spec.kernel().toAbsolutePath().toString(), "{kernel}");
        placeholders.put(spec.rootfs().toAbsolutePath().toString(), "{drive:root}");
        for (Drive d : spec.drives()) placeholders.put(d.file().toAbsolutePath().toString(), "{drive:" + d.id() + "}");
        placeholders.put(files.consoleLog().toString(), "{console}");
        placeholders.put(files.consoleSocket().toString(), "{console-socket}");
        placeholders.put(files.guestSocket().toString(), "{guest-socket}");
        placeholders.put(files.qmpSocket().toString(), "{qmp-socket}");
        // As whole options: a TAP name like kiln-5 could also be part of another argument.
        if (spec.nic() != null) {
            placeholders.put("ifname=" + spec.nic().tapName() + ",", "ifname={tap},");
            placeholders.put("mac=" + spec.nic().mac(), "mac={mac}");
        }

        List<String> command = plain.command();
        List<String> shape = new ArrayList<>(command.size());
        shape.add("{qemu}");
        for (int i = 1; i < command.size(); i++) {
            String arg = command.get(i);
            if (command.get(i - 1).equals("-name")) {
                shape.add("{name}");
                continue;
            }
            for (Map.Entry<String, String> p : placeholders.entrySet()) {
                arg = arg.replace(QemuCommandLine.escape(p.getKey()), p.getValue());
                arg = arg.replace(p.getKey(), p.getValue());
            }
            shape.add(arg);
        }
        return shape;
    }
}
