package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;
import java.time.Instant;

/** One stored blob as listed (not verified): its hash, size in bytes and when it was stored. */
public record BlobInfo(ItemHash hash, long size, Instant modified) {}
