package dev.kiln.store;

import java.util.List;

/**
 * The result of re-hashing every stored blob.
 *
 * @param ok           blobs whose bytes still match their hash
 * @param bytesChecked total size of those blobs
 * @param corrupted    blobs that did not match; each has already been moved to the quarantine
 */
public record VerifyReport(int ok, long bytesChecked, List<Corruption> corrupted) {
    public VerifyReport {
        corrupted = List.copyOf(corrupted);
    }

    public boolean clean() {
        return corrupted.isEmpty();
    }
}
