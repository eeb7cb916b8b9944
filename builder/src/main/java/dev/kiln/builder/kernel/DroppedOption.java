package dev.kiln.builder.kernel;

/**
 * An option the fragment asks for that the final {@code .config} does not have, almost always
 * because Kconfig dropped it: a dependency is missing, or another option selects it back on.
 */
record DroppedOption(String option, String wanted, String actual) {

    @Override
    public String toString() {
        return KernelConfig.describe(option, wanted) + " was requested, the final config has "
                + KernelConfig.describe(option, actual);
    }
}
