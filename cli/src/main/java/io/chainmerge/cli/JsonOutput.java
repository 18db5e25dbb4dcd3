package io.chainmerge.cli;

/** A command that can print what it reports as JSON; errors then go to standard output as JSON too. */
public interface JsonOutput {
    boolean json();
}
