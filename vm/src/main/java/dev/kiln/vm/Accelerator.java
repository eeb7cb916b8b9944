package dev.kiln.vm;

/** How the VMM runs guest code: hardware virtualisation where it works, else emulation. */
public enum Accelerator {
    KVM, TCG;

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
