package dev.kiln.guest;

/**
 * The request (or configuration) was refused before the program saw it: the agent answered its
 * head with an ERROR (e.g. {@code bad_request}, {@code too_many_streams}, {@code halting},
 * {@code already_configured}), or the host refused to send what the agent would refuse
 * ({@code too_many_headers}) or could not take now ({@code too_many_uploads}). One stream, not the VM: the connection
 * stays usable, so the caller answers the client and keeps the VM.
 */
public class GuestRequestRefusedException extends GuestStreamException {
    public GuestRequestRefusedException(String code, String message) {
        super(code, message);
    }
}
