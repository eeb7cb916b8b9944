package dev.kiln.cli;

import picocli.CommandLine.Command;

@Command(name = "program", mixinStandardHelpOptions = true, description = "Publish programs on this node and list them.",
        subcommands = {ProgramCreate.class, ProgramList.class, ProgramCall.class})
final class ProgramCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "a subcommand is required: create or list");
    }
}
