package io.virtfleet.cli;

import picocli.CommandLine;

final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Virtfleet.class.getPackage().getImplementationVersion();
        return new String[] {"virtfleet " + (version == null ? "development build" : version)};
    }
}
