package dev.kiln.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The module table of docs/architecture.md, enforced on the main classes of every module: a
 * module's classes use only the modules its row allows, every class lives under a module's
 * package root, and no two packages depend on each other in a cycle. The rules name module roots
 * only, so a new package inside a module needs no edit here; a new edge between modules needs
 * the table, the pom and {@link #MODULES} changed together (the last two tests check that they
 * agree).
 */
class ModuleEdgesTest {

    /** Module → the modules it may use, in the table's order: each row uses only rows above it. */
    private static final Map<String, Set<String>> MODULES = new LinkedHashMap<>();

    static {
        MODULES.put("core", Set.of());
        MODULES.put("store", Set.of("core"));
        MODULES.put("guest", Set.of());
        MODULES.put("builder", Set.of("core", "store", "guest"));
        MODULES.put("vm", Set.of("guest"));
        MODULES.put("network", Set.of());
        MODULES.put("node", Set.of("core", "store", "guest", "vm", "network"));
        MODULES.put("cli", Set.of("core", "store", "builder", "vm", "node"));
    }

    private static final String ROOT = "dev.kiln.";

    private static JavaClasses kiln;

    @BeforeAll
    static void importEveryModule() {
        kiln = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.kiln");
        assertThat(MODULES.keySet()).allSatisfy(m -> assertThat(kiln.containPackage(ROOT + m))
                .as("classes of module %s on the test classpath (architecture/pom.xml depends on every module)", m)
                .isTrue());
    }

    @Test
    void eachModuleUsesOnlyTheModulesItsRowAllows() {
        List<String> violations = new ArrayList<>();
        MODULES.forEach((module, allowed) -> {
            String[] forbidden = MODULES.keySet().stream()
                    .filter(other -> !other.equals(module) && !allowed.contains(other))
                    .map(other -> ROOT + other + "..").toArray(String[]::new);
            if (forbidden.length == 0) return;
            ArchRule rule = noClasses().that().resideInAPackage(ROOT + module + "..")
                    .should().dependOnClassesThat().resideInAnyPackage(forbidden)
                    .because("docs/architecture.md lets " + module + " use " + (allowed.isEmpty() ? "no other module"
                            : String.join(", ", new TreeSet<>(allowed))) + " only");
            EvaluationResult result = rule.evaluate(kiln);
            if (result.hasViolation()) violations.add(result.getFailureReport().toString());
        });
        assertThat(violations).as("edges the module table does not allow: move the code, or change the table,"
                + " the pom and ModuleEdgesTest.MODULES together").isEmpty();
    }

    @Test
    void everyClassLivesUnderAModuleRoot() {
        String[] roots = MODULES.keySet().stream().map(m -> ROOT + m + "..").toArray(String[]::new);
        classes().should().resideInAnyPackage(roots)
                .because("a new module gets a row in docs/architecture.md and in ModuleEdgesTest.MODULES")
                .check(kiln);
    }

    @Test
    void packagesDependOnEachOtherWithoutCycles() {
        // (**) makes each package its own slice: dev.kiln.store and dev.kiln.store.records are two.
        slices().matching(ROOT + "(**)").should().beFreeOfCycles().check(kiln);
    }

    @Test
    void theTableIsOrderedSoEdgesOnlyPointUp() {
        List<String> above = new ArrayList<>();
        MODULES.forEach((module, allowed) -> {
            assertThat(above).as("the modules %s may use must come before it in the table", module)
                    .containsAll(allowed);
            above.add(module);
        });
    }

    @Test
    void docsArchitectureMdHasTheSameTable() throws IOException {
        String doc = Files.readString(repository().resolve("docs/architecture.md"));
        // | `store` | `dev.kiln.store` | what it holds | `core` | libraries |
        Pattern row = Pattern.compile("(?m)^\\| `([a-z]+)` \\| `([a-z.]+)` \\|[^|]*\\|([^|]*)\\|");
        Map<String, Set<String>> documented = new LinkedHashMap<>();
        Matcher m = row.matcher(doc);
        while (m.find()) {
            assertThat(m.group(2)).as("package root of module %s", m.group(1)).isEqualTo(ROOT + m.group(1));
            documented.put(m.group(1), backticked(m.group(3)));
        }
        assertThat(documented).as("docs/architecture.md's module table (module → depends on)")
                .containsExactlyEntriesOf(MODULES);
    }

    @Test
    void thePomsDeclareTheSameModules() throws IOException {
        Map<String, Set<String>> declared = new LinkedHashMap<>();
        for (String module : MODULES.keySet()) {
            declared.put(module, compileDependencies(Files.readString(repository().resolve(module).resolve("pom.xml"))));
        }
        assertThat(declared).as("the kiln-* dependencies of each module's pom.xml, test scope aside")
                .containsExactlyEntriesOf(MODULES);
    }

    /** The kiln modules a pom uses outside test scope. */
    private static Set<String> compileDependencies(String pom) {
        Set<String> out = new TreeSet<>();
        Matcher dependency = Pattern.compile("(?s)<dependency>(.*?)</dependency>").matcher(pom);
        while (dependency.find()) {
            String body = dependency.group(1);
            Matcher artifact = Pattern.compile("<artifactId>kiln-([a-z]+)</artifactId>").matcher(body);
            if (artifact.find() && !body.contains("<scope>test</scope>")) out.add(artifact.group(1));
        }
        return out;
    }

    private static Set<String> backticked(String cell) {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("`([a-z]+)`").matcher(cell);
        while (m.find()) names.add(m.group(1));
        return names;
    }

    /** Surefire runs in architecture/, one level below the repository's root. */
    private static Path repository() {
        Path root = Path.of("").toAbsolutePath().getParent();
        assertThat(root.resolve("docs/architecture.md")).as("the repository root above " + Path.of("").toAbsolutePath())
                .isRegularFile();
        return root;
    }
}
