package dev.kiln.network;

/** A VM asked for a network this node cannot give; the node answers 400 unsupported with the message. */
public final class NetworkUnavailableException extends RuntimeException {

    public NetworkUnavailableException(String message) {
        super(message);
    }
}
