package io.virtfleet.reconcilers.testing;

import com.thaiopensource.util.PropertyMapBuilder;
import com.thaiopensource.validate.ValidateProperty;
import com.thaiopensource.validate.ValidationDriver;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * libvirt's RelaxNG schema for domains (what virt-xml-validate uses), loaded once. A missing schema fails the test:
 * a schema check that silently passes when the schema is absent would prove nothing.
 */
public final class LibvirtSchema {
    public static final String PROPERTY = "virtfleet.libvirt.domain.rng";
    public static final String DEFAULT_LOCATION = "/usr/share/libvirt/schemas/domain.rng";

    private static final List<String> ERRORS = new ArrayList<>();
    private static ValidationDriver driver;

    private LibvirtSchema() {
    }

    public static Path location() {
        return Path.of(System.getProperty(PROPERTY, DEFAULT_LOCATION));
    }

    /** Problems the schema finds in the document; empty when it is valid. */
    public static synchronized List<String> problems(String xml) {
        ValidationDriver d = driver();
        ERRORS.clear();
        try {
            if (!d.validate(new InputSource(new StringReader(xml))) && ERRORS.isEmpty()) {
                ERRORS.add("invalid (no detail from the validator)");
            }
        } catch (SAXException | IOException e) {
            ERRORS.add(e.toString());
        }
        return List.copyOf(ERRORS);
    }

    public static void assertValid(String xml) {
        assertThat(problems(xml)).as("libvirt RelaxNG schema problems in:%n%s", xml).isEmpty();
    }

    private static ValidationDriver driver() {
        if (driver == null) {
            driver = load(location());
        }
        return driver;
    }

    static ValidationDriver load(Path rng) {
        if (!Files.isRegularFile(rng)) {
            fail("libvirt's domain schema is missing at " + rng + ": run scripts/install-libvirt (or apt-get install "
                    + "libvirt0, which ships /usr/share/libvirt/schemas), or point -D" + PROPERTY + " at domain.rng");
        }
        ErrorHandler collect = new ErrorHandler() {
            @Override
            public void warning(SAXParseException e) {
            }

            @Override
            public void error(SAXParseException e) {
                ERRORS.add(e.getLineNumber() + ":" + e.getColumnNumber() + ": " + e.getMessage());
            }

            @Override
            public void fatalError(SAXParseException e) {
                error(e);
            }
        };
        PropertyMapBuilder props = new PropertyMapBuilder();
        ValidateProperty.ERROR_HANDLER.put(props, collect);
        ValidationDriver d = new ValidationDriver(props.toPropertyMap());
        try {
            if (!d.loadSchema(ValidationDriver.fileInputSource(rng.toFile()))) {
                fail("cannot load " + rng + ": " + ERRORS);
            }
        } catch (SAXException | IOException e) {
            fail("cannot load " + rng + ": " + e);
        }
        return d;
    }
}
