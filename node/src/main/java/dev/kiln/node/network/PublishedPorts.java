package dev.kiln.node.network;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.network.PortForward;
import dev.kiln.network.PublishedPort;
import dev.kiln.store.records.RecordsException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Where the node keeps the guest ports each program asks to have forwarded (the node's records). */
@FunctionalInterface
public interface PublishedPorts {

    /** No program publishes anything. */
    PublishedPorts NONE = program -> List.of();

    List<PublishedPort> of(ItemHash program) throws RecordsException;

    /**
     * Ports as a user writes them: {@code 8080}, {@code 8080/tcp} or {@code 53/udp}.
     *
     * @throws IllegalArgumentException naming the first text that is not one
     */
    static List<PublishedPort> parse(List<String> texts) {
        List<PublishedPort> out = new ArrayList<>();
        for (String text : texts) {
            String[] parts = text.trim().toLowerCase(Locale.ROOT).split("/", -1);
            PortForward.Protocol protocol = parts.length == 1 || parts[1].equals("tcp") ? PortForward.Protocol.TCP
                    : parts[1].equals("udp") ? PortForward.Protocol.UDP : null;
            int port = -1;
            if (parts[0].matches("[0-9]{1,5}")) port = Integer.parseInt(parts[0]);
            if (protocol == null || parts.length > 2 || port < 1 || port > 65535) {
                throw new IllegalArgumentException("a published port is PORT, PORT/tcp or PORT/udp with PORT in"
                        + " 1..65535, not '" + text + "'");
            }
            out.add(new PublishedPort(protocol, port));
        }
        return List.copyOf(out);
    }
}
