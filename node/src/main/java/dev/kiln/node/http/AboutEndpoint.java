package dev.kiln.node.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.network.PortForward;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.pool.ExecutionView;
import dev.kiln.node.volume.VolumeInfo;
import dev.kiln.vm.VmState;
import dev.kiln.node.control.MachineInfo;
import dev.kiln.node.control.Machines;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code /about/executions/list}: what runs on this node now. */
final class AboutEndpoint {
    private final ExecutionPool pool;
    private final String accelerator;
    private final List<Machines> machines;

    AboutEndpoint(ExecutionPool pool, String accelerator, List<Machines> machines) {
        this.pool = pool;
        this.accelerator = accelerator;
        this.machines = List.copyOf(machines);
    }

    /** {@code /about/volumes}: the persistent volumes kept on this node, their size, use and VM. */
    byte[] volumes() throws java.io.IOException {
        ObjectNode root = ErrorResponses.JSON.createObjectNode();
        ArrayNode list = root.putArray("volumes");
        root.put("enabled", pool.persistentVolumes().isPresent());
        if (pool.persistentVolumes().isPresent()) {
            for (VolumeInfo v : pool.persistentVolumes().get().list()) {
                v.writeTo(list.addObject()).put("attached_to", v.attachedTo());
            }
        }
        if (pool.dataExports().isPresent()) dev.kiln.node.export.ExportListing.write(root.putArray("exports"), pool.dataExports().get());
        try {
            return ErrorResponses.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    byte[] executions() {
        ObjectNode root = ErrorResponses.JSON.createObjectNode();
        root.put("accelerator", accelerator);
        root.put("network", pool.networks().describe());
        ObjectNode memory = root.putObject("memory");
        memory.put("budget_mib", pool.memoryBudgetMiB());
        memory.put("reserved_mib", pool.memoryReservedMiB());
        ObjectNode states = root.putObject("vms_by_state");
        for (Map.Entry<VmState, Long> e : pool.vmsByState().entrySet()) {
            states.put(e.getKey().name().toLowerCase(Locale.ROOT), e.getValue());
        }
        ArrayNode list = root.putArray("executions");
        for (ExecutionView v : pool.executions()) {
            ObjectNode o = list.addObject();
            o.put("id", v.id());
            o.put("vm", v.vmId());
            o.put("program", v.program().value());
            o.put("runtime", v.runtime().value());
            o.put("state", v.state().name().toLowerCase(Locale.ROOT));
            o.put("accelerator", v.accelerator());
            o.put("started_at", v.startedAt().toString());
            o.put("uptime_seconds", v.uptime().toMillis() / 1000.0);
            if (v.boot() != null) o.put("boot_seconds", v.boot().toNanos() / 1e9);
            else o.putNull("boot_seconds");
            o.put("start", v.start().name().toLowerCase(Locale.ROOT));
            if (v.bootBreakdown() != null) {
                ObjectNode b = o.putObject("boot_breakdown_seconds");
                b.put("resolve", v.bootBreakdown().resolve().toNanos() / 1e9);
                b.put("vm_boot", v.bootBreakdown().vmBoot().toNanos() / 1e9);
                b.put("configure", v.bootBreakdown().configure().toNanos() / 1e9);
            }
            o.put("requests_served", v.requestsServed());
            o.put("in_flight", v.inFlight());
            o.put("memory_mib", v.memoryMiB());
            o.put("pid", v.pid());
            ArrayNode ports = o.putArray("forwarded_ports");
            for (PortForward f : pool.networks().forwards(v.id())) {
                ports.addObject().put("protocol", f.protocol().name().toLowerCase(Locale.ROOT))
                        .put("host_port", f.hostPort()).put("guest_port", f.guestPort());
            }
        }
        // Persistent programs stay listed between executions: restarting (with the next attempt) or failed.
        ArrayNode kept = root.putArray("persistent");
        pool.persistent().forEach((program, view) -> {
            ObjectNode o = kept.addObject();
            o.put("program", program.value());
            o.put("status", view.status().name().toLowerCase(Locale.ROOT));
            o.put("restarts", view.restarts());
            if (view.nextAttempt() != null) o.put("next_attempt", view.nextAttempt().toString());
            else o.putNull("next_attempt");
            if (view.lastFailure() != null) o.put("last_failure", view.lastFailure());
            else o.putNull("last_failure");
        });
        // Instances (and other allocated machines), with the host port of each one's SSH forward.
        for (Machines kind : machines) {
            ArrayNode of = root.putArray(kind.kind().allocationField());
            for (MachineInfo m : kind.list()) {
                ObjectNode o = of.addObject();
                o.put("item_hash", m.message().value());
                o.put("state", m.state());
                o.put("since", m.since().toString());
                if (m.sshPort().isPresent()) o.put("ssh_port", m.sshPort().get());
                else o.putNull("ssh_port");
                ObjectNode d = o.putObject("detail");
                m.detail().forEach(d::put);
            }
        }
        try {
            return ErrorResponses.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
