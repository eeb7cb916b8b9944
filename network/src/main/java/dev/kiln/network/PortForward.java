package dev.kiln.network;

import java.util.Locale;

/** A host port of the node that leads to a port of one VM. */
public record PortForward(Protocol protocol, int hostPort, int guestPort) {

    public enum Protocol {
        TCP, UDP;

        String nft() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
