package io.chainmerge.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Man pages (section 1, roff with the man macros) for chainmerge and each of its commands, written from
 * the same picocli model as --help and the completion script, so the three never disagree. The build
 * runs {@link #main} (from the test class path: a build tool, not part of the command) before it packs
 * the release archive and the .deb.
 */
public final class ManPages {
    private ManPages() {}

    /** Writes chainmerge.1 and chainmerge-COMMAND[-SUB].1 into OUTPUT-FOLDER, for chainmerge VERSION. */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: ManPages OUTPUT-FOLDER VERSION");
        }
        Path folder = Files.createDirectories(Path.of(args[0]));
        for (CommandLine command : all(ChainmergeCommand.commandLine())) {
            Files.writeString(
                    folder.resolve(fileName(command.getCommandSpec())),
                    page(command.getCommandSpec(), args[1]),
                    StandardCharsets.UTF_8);
        }
    }

    static List<CommandLine> all(CommandLine root) {
        List<CommandLine> commands = new ArrayList<>();
        commands.add(root);
        root.getSubcommands().forEach((name, sub) -> {
            if (!name.equals("help")) {
                commands.addAll(all(sub));
            }
        });
        return commands;
    }

    static String pageName(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    static String fileName(CommandSpec spec) {
        return pageName(spec) + ".1";
    }

    static String page(CommandSpec spec, String version) {
        StringBuilder roff = new StringBuilder();
        roff.append(".\\\" Generated from chainmerge's command line model (io.chainmerge.cli.ManPages).\n");
        roff.append(".TH ")
                .append(pageName(spec).toUpperCase(Locale.ROOT))
                .append(" 1 \"\" \"chainmerge ")
                .append(escape(version))
                .append("\" \"chainmerge manual\"\n");
        roff.append(".SH NAME\n")
                .append(pageName(spec).replace("-", "\\-"))
                .append(" \\- ")
                .append(escape(summary(spec)))
                .append('\n');
        roff.append(".SH SYNOPSIS\n.nf\n")
                .append(escape(
                        new CommandLine.Help(spec, CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF))
                                .synopsis(0)
                                .stripTrailing()))
                .append("\n.fi\n");
        roff.append(".SH DESCRIPTION\n");
        paragraphs(roff, spec.usageMessage().description());
        if (!spec.positionalParameters().isEmpty() || !spec.options().isEmpty()) {
            roff.append(".SH OPTIONS\n");
            for (PositionalParamSpec parameter : spec.positionalParameters()) {
                roff.append(".TP\n\\fI").append(escape(parameter.paramLabel())).append("\\fR\n");
                paragraphs(roff, parameter.description());
            }
            for (OptionSpec option : spec.options()) {
                roff.append(".TP\n\\fB")
                        .append(escape(String.join(", ", option.names())))
                        .append("\\fR");
                if (option.arity().max() > 0) {
                    roff.append(" \\fI").append(escape(option.paramLabel())).append("\\fR");
                }
                roff.append('\n');
                paragraphs(roff, option.description());
            }
        }
        if (!spec.subcommands().isEmpty()) {
            roff.append(".SH COMMANDS\n");
            spec.subcommands().forEach((name, sub) -> {
                if (!name.equals("help")) {
                    roff.append(".TP\n\\fB")
                            .append(escape(name))
                            .append("\\fR\n")
                            .append(escape(summary(sub.getCommandSpec())))
                            .append(" See \\fB")
                            .append(pageName(sub.getCommandSpec()).replace("-", "\\-"))
                            .append("\\fR(1).\n");
                }
            });
        }
        roff.append(".SH EXIT STATUS\n")
                .append(".TP\n0\ndone\n")
                .append(".TP\n1\nanything else (an I/O error, an unreachable coordinator)\n")
                .append(".TP\n2\nusage: an unknown option, a missing argument\n")
                .append(".TP\n3\nrefused by a guard (space, siblings, orphaned, in use, not the same parent);")
                .append(" nothing was changed\n")
                .append(".TP\n4\ninvalid or corrupt input; nothing was changed\n");
        roff.append(".SH SEE ALSO\n");
        CommandSpec parent = spec.parent();
        roff.append(
                parent == null
                        ? "The documentation in /opt/chainmerge/docs or the project's docs/ folder.\n"
                        : "\\fB" + pageName(parent).replace("-", "\\-") + "\\fR(1)\n");
        return roff.toString();
    }

    private static String summary(CommandSpec spec) {
        String[] header = spec.usageMessage().header();
        if (header.length > 0) {
            return header[0];
        }
        String[] description = spec.usageMessage().description();
        return description.length > 0 ? description[0] : "";
    }

    private static void paragraphs(StringBuilder roff, String[] lines) {
        boolean first = true;
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            if (!first) {
                roff.append(".PP\n");
            }
            roff.append(escape(line.replace("%n", " "))).append('\n');
            first = false;
        }
    }

    /** Text as roff shows it: backslashes escaped, and no line starting with a control character. */
    static String escape(String text) {
        String escaped = text.replace("\\", "\\e").replace("-", "\\-");
        StringBuilder out = new StringBuilder();
        for (String line : escaped.split("\n", -1)) {
            if (out.length() > 0) {
                out.append('\n');
            }
            if (line.startsWith(".") || line.startsWith("'")) {
                out.append("\\&");
            }
            out.append(line);
        }
        return out.toString();
    }
}
