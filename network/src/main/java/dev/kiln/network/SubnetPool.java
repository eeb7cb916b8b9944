package dev.kiln.network;

import java.util.Optional;

/** Cuts the node's range into equal per-VM subnets and lends them out lock-free. */
public final class SubnetPool {

    private final Ipv4Range range;
    private final int subnetPrefix;
    private final SlotBitmap slots;

    public SubnetPool(Ipv4Range range, int subnetPrefix) {
        if (subnetPrefix < range.prefixLength() || subnetPrefix > 30) {
            throw new IllegalArgumentException("a VM subnet must be a /" + range.prefixLength()
                    + " to /30 inside " + range + " (a gateway and a guest need two addresses), not /" + subnetPrefix);
        }
        this.range = range;
        this.subnetPrefix = subnetPrefix;
        long count = range.size() >> (32 - subnetPrefix);
        this.slots = new SlotBitmap((int) Math.min(count, 1 << 20));
    }

    public Optional<VmSubnet> allocate() {
        var slot = slots.claim();
        return slot.isPresent() ? Optional.of(subnet(slot.getAsInt())) : Optional.empty();
    }

    /** Takes this very subnet (one a VM still uses); false if it is taken already. */
    boolean claim(VmSubnet subnet) {
        return slots.tryClaim(subnet.index());
    }

    public void release(VmSubnet subnet) {
        slots.release(subnet.index());
    }

    public int capacity() {
        return slots.size();
    }

    public int inUse() {
        return slots.taken();
    }

    VmSubnet subnet(int index) {
        long offset = (long) index << (32 - subnetPrefix);
        return new VmSubnet(index, new Ipv4Range(range.base().plus(offset), subnetPrefix));
    }
}
