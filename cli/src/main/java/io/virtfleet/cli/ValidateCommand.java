package io.virtfleet.cli;

import io.virtfleet.reconcilers.manifest.KindRules;
import io.virtfleet.reconcilers.manifest.ManifestDocument;
import io.virtfleet.reconcilers.manifest.Manifests;
import io.virtfleet.reconcilers.validation.FieldError;
import io.virtfleet.reconcilers.validation.ValidationContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** The GitOps pre-push check: the apiserver's schema and the operator's validation, offline, for every kind. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet validate examples/*.yaml", "  virtfleet validate -q vm.yaml --allowed-root /var/lib/virtfleet"},
        description = {"Checks manifests of every virtfleet kind (multi-document YAML allowed) without a cluster: "
                + "the rules of the CRD schema and the operator's own checks.",
                "Prints each error as FILE:doc N: field: message, and each skipped document (another API's "
                        + "object) as FILE:doc N: kind K: not a virtfleet object, skipped. A kind or API group "
                        + "that looks like a typo of virtfleet's is an error. A file that is not UTF-8 is an error "
                        + "(FILE: byte N: not UTF-8).",
                "Exit 0 when all are valid, 1 on any error, 2 when a file cannot be read."})
final class ValidateCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Manifest files to check.")
    List<Path> files;

    @Option(names = "--allowed-root", paramLabel = "DIR",
            description = "Directory under which disk paths and backup destinations must lie (repeatable; default: "
                    + "/var/lib/virtfleet).")
    List<String> allowedRoots = new ArrayList<>();

    @Option(names = {"-q", "--quiet"}, description = "Print errors only.")
    boolean quiet;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ValidationContext ctx = allowedRoots.isEmpty() ? ValidationContext.defaults()
                : new ValidationContext(List.copyOf(allowedRoots));
        int errors = 0;
        int checked = 0;
        int skipped = 0;
        for (Path file : files) {
            String text;
            try {
                text = utf8(Files.readAllBytes(file));
            } catch (NotUtf8 e) {
                // kubectl and the apiserver read manifests as UTF-8 only.
                out.println(file + ": byte " + e.byteNumber + ": not UTF-8");
                errors++;
                continue;
            }
            for (ManifestDocument doc : Manifests.parse(text)) {
                List<FieldError> problems = new ArrayList<>(doc.errors());
                if (doc.object() != null) {
                    checked++;
                    problems.addAll(KindRules.validate(doc.object(), ctx));
                } else if (doc.skipped()) {
                    skipped++;
                    if (!quiet) {
                        out.println(file + ":doc " + doc.index() + ": kind " + doc.kind() + ": " + doc.skipReason()
                                + ", skipped" + (doc.name() != null ? " (name " + doc.name() + ")" : ""));
                    }
                }
                for (FieldError error : problems) {
                    out.println(file + ":doc " + doc.index() + ": " + error);
                }
                errors += problems.size();
            }
        }
        if (!quiet) {
            String skips = skipped == 0 ? "" : ", " + skipped + " document(s) skipped";
            out.println((errors == 0 ? checked + " virtfleet object(s) valid"
                    : errors + " error(s) in " + checked + " virtfleet object(s)") + skips);
        }
        out.flush();
        return errors == 0 ? ExitCodes.OK : ExitCodes.INVALID;
    }

    /** Strict UTF-8 (a malformed or unmappable byte is an error, never a replacement character). */
    static String utf8(byte[] bytes) throws NotUtf8 {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (r.isError()) {
            throw new NotUtf8(in.position() + 1); // 1-based, as cmp(1) counts bytes
        }
        r = decoder.flush(out);
        if (r.isError()) {
            throw new NotUtf8(in.position() + 1);
        }
        return out.flip().toString();
    }

    static final class NotUtf8 extends CharacterCodingException {
        final int byteNumber;

        NotUtf8(int byteNumber) {
            this.byteNumber = byteNumber;
        }
    }
}
