package dev.kiln.network;

/**
 * Whether this node can give VMs a network, found once at start. The node shows it in /about and
 * answers a program that needs the internet with 400 unsupported and {@link Unsupported#reason()}.
 */
public sealed interface NetworkSupport {

    String describe();

    record Supported(String description) implements NetworkSupport {
        @Override
        public String describe() {
            return description;
        }
    }

    record Unsupported(String reason) implements NetworkSupport {
        @Override
        public String describe() {
            return "VM networking unavailable: " + reason;
        }
    }
}
