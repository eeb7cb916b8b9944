package dev.kiln.guest;

/**
 * The agent broke the protocol. The guest runs user code as root and is untrusted, so the host
 * closes the connection: the node should stop the VM.
 */
public class GuestProtocolException extends GuestChannelClosedException {
    public GuestProtocolException(String message) {
        super(message);
    }
}
