package dev.kiln.vm;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life of one microVM. The allowed moves are the edges below; anything else is a bug in the
 * caller and is refused by {@link VmLifecycle}.
 *
 * <pre>
 * PREPARING → BOOTING → READY → BUSY ⇄ IDLE        READY → IDLE as well
 *   │            │         │      │      │
 *   │            └─────────┴──────┴──────┴──→ STOPPING → STOPPED
 *   ├──→ STOPPING, or STOPPED at once (nothing was started)
 *   └── every state but STOPPED and FAILED may go to FAILED
 * </pre>
 *
 * READY: the guest agent said hello and the VM takes work. BUSY / IDLE: requests in flight or
 * none (moved by the node's execution, which counts them); there is no way back to READY.
 * STOPPING: asked to stop (only one caller wins); FAILED: the VMM died, the guest stopped
 * answering, the boot failed or the VM was killed. {@link #next()} is the exact list.
 */
public enum VmState {
    PREPARING, BOOTING, READY, BUSY, IDLE, STOPPING, STOPPED, FAILED;

    public boolean isTerminal() {
        return this == STOPPED || this == FAILED;
    }

    /** True while the VM can take requests. */
    public boolean isServing() {
        return this == READY || this == BUSY || this == IDLE;
    }

    /** The states this one may move to. */
    public Set<VmState> next() {
        return switch (this) {
            case PREPARING -> EnumSet.of(BOOTING, FAILED, STOPPING, STOPPED);
            case BOOTING -> EnumSet.of(READY, FAILED, STOPPING);
            case READY -> EnumSet.of(BUSY, IDLE, STOPPING, FAILED);
            case BUSY -> EnumSet.of(IDLE, STOPPING, FAILED);
            case IDLE -> EnumSet.of(BUSY, STOPPING, FAILED);
            case STOPPING -> EnumSet.of(STOPPED, FAILED);
            case STOPPED, FAILED -> EnumSet.noneOf(VmState.class);
        };
    }
}
