package dev.kiln.node.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OperatorTokenTest {
    @TempDir
    Path home;

    @Test
    void createdOnceOwnerOnlyAndAcceptedBothWays() throws Exception {
        OperatorToken first = OperatorToken.loadOrCreate(home);
        Path file = home.resolve(OperatorToken.FILE_NAME);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        String token = OperatorToken.read(home).orElseThrow();
        assertEquals(64, token.length());

        OperatorToken again = OperatorToken.loadOrCreate(home);
        assertEquals(token, OperatorToken.read(home).orElseThrow(), "a restart keeps the operator's token");
        assertTrue(again.accepts(Optional.of("Bearer " + token), Optional.empty()));
        assertTrue(first.accepts(Optional.empty(), Optional.of(token)));
        assertTrue(first.accepts(Optional.of("bearer  " + token + " "), Optional.empty()));
    }

    @Test
    void refusesWrongMissingAndMalformedCredentials() throws Exception {
        OperatorToken t = OperatorToken.loadOrCreate(home);
        String token = OperatorToken.read(home).orElseThrow();
        assertFalse(t.accepts(Optional.empty(), Optional.empty()));
        assertFalse(t.accepts(Optional.of("Bearer " + token.substring(1)), Optional.empty()));
        assertFalse(t.accepts(Optional.of(token), Optional.empty()), "a bare token is not the Bearer scheme");
        assertFalse(t.accepts(Optional.of("Basic " + token), Optional.empty()));
        assertFalse(t.accepts(Optional.empty(), Optional.of("")));
    }
}
