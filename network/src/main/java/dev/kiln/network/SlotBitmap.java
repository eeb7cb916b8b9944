package dev.kiln.network;

import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A fixed set of numbered slots taken and given back without a lock: a VM start must never wait
 * for another VM's start (the reference serialises every creation behind one lock). A claim is a
 * compare-and-set on one bit; the search starts after the last claim so that a just-released slot
 * (whose TAP name and subnet may still sit in a peer's ARP cache) is not handed out at once.
 */
final class SlotBitmap {

    private final AtomicLongArray words;
    private final int size;
    private final AtomicInteger cursor = new AtomicInteger();

    SlotBitmap(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("a slot bitmap needs at least one slot");
        }
        this.size = size;
        this.words = new AtomicLongArray((size + 63) / 64);
    }

    int size() {
        return size;
    }

    OptionalInt claim() {
        int start = Math.floorMod(cursor.get(), size);
        for (int i = 0; i < size; i++) {
            int slot = (start + i) % size;
            if (tryClaim(slot)) {
                cursor.set(slot + 1);
                return OptionalInt.of(slot);
            }
        }
        return OptionalInt.empty();
    }

    boolean tryClaim(int slot) {
        int w = slot >>> 6;
        long bit = 1L << (slot & 63);
        while (true) {
            long old = words.get(w);
            if ((old & bit) != 0) {
                return false;
            }
            if (words.compareAndSet(w, old, old | bit)) {
                return true;
            }
        }
    }

    void release(int slot) {
        int w = slot >>> 6;
        long bit = 1L << (slot & 63);
        while (true) {
            long old = words.get(w);
            if ((old & bit) == 0) {
                throw new IllegalStateException("slot " + slot + " was not taken");
            }
            if (words.compareAndSet(w, old, old & ~bit)) {
                return;
            }
        }
    }

    int taken() {
        int n = 0;
        for (int i = 0; i < words.length(); i++) {
            n += Long.bitCount(words.get(i));
        }
        return n;
    }
}
