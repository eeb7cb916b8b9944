package dev.kiln.network;

/** A guest port a program asks to be reachable from outside. */
public record PublishedPort(PortForward.Protocol protocol, int port) {

    public PublishedPort {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("a published port is 1..65535, not " + port);
        }
    }

    public static PublishedPort tcp(int port) {
        return new PublishedPort(PortForward.Protocol.TCP, port);
    }
}
