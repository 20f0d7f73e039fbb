// Loads ontology documents with the OWL API (the library Protege is built on) and reports what Protege would see:
// unparsed triples, guessed declarations, OWL 2 DL profile violations and the entity and axiom counts.
//
//   java OwlApiCheck check     [--map IRI=FILE]... FILE...
//   java OwlApiCheck roundtrip [--map IRI=FILE]... --out DIR FILE...
//
// --map resolves an owl:imports IRI to a local file, as Protege's catalog-v001.xml does. The documents are loaded
// in order into one manager, so a module loaded earlier also satisfies a later module's import of it.
// roundtrip then saves each given document's ontology (not its imports) as Protege's "Save as" would: RDF/XML to
// DIR/<name>.owl and Turtle to DIR/<name>.ttl, keeping the prefixes the document was read with.
// Output: one "key=value" line per count, then "unparsed: ...", "violation: ..." and "saved: ..." lines.
import java.io.File;
import java.util.*;
import java.util.stream.*;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.formats.PrefixDocumentFormat;
import org.semanticweb.owlapi.formats.RDFXMLDocumentFormat;
import org.semanticweb.owlapi.formats.TurtleDocumentFormat;
import org.semanticweb.owlapi.io.OWLOntologyLoaderMetaData;
import org.semanticweb.owlapi.io.RDFParserMetaData;
import org.semanticweb.owlapi.model.*;
import org.semanticweb.owlapi.model.parameters.Imports;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;
import org.semanticweb.owlapi.util.SimpleIRIMapper;

public class OwlApiCheck {
    private static final int SAMPLES = 50;

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        // Offline: an import the --map options do not resolve fails fast instead of waiting on the network.
        manager.setOntologyLoaderConfiguration(manager.getOntologyLoaderConfiguration()
                .setConnectionTimeout(2000).setFollowRedirects(false));
        List<File> inputs = new ArrayList<>();
        File out = null;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--map")) {
                String[] pair = args[++i].split("=", 2);
                manager.getIRIMappers().add(new SimpleIRIMapper(IRI.create(pair[0]), IRI.create(new File(pair[1]))));
            } else if (args[i].equals("--out")) {
                out = new File(args[++i]);
            } else {
                inputs.add(new File(args[i]));
            }
        }

        List<OWLOntology> loaded = new ArrayList<>();
        for (File input : inputs) {
            loaded.add(manager.loadOntologyFromOntologyDocument(input));
        }
        Set<OWLOntology> closure = new LinkedHashSet<>();
        for (OWLOntology o : loaded) closure.addAll(o.getImportsClosure());

        long unparsed = 0;
        long guessed = 0;
        List<String> unparsedSamples = new ArrayList<>();
        for (OWLOntology o : closure) {
            Optional<OWLOntologyLoaderMetaData> meta = manager.getOntologyFormat(o).getOntologyLoaderMetaData();
            if (meta.isPresent() && meta.get() instanceof RDFParserMetaData) {
                RDFParserMetaData rdf = (RDFParserMetaData) meta.get();
                List<String> triples = rdf.getUnparsedTriples().map(Object::toString).collect(Collectors.toList());
                unparsed += triples.size();
                for (String t : triples) if (unparsedSamples.size() < SAMPLES) unparsedSamples.add(t);
                guessed += rdf.getGuessedDeclarations().size();
            }
        }
        Set<String> violations = new LinkedHashSet<>();
        for (OWLOntology o : loaded) {
            for (OWLProfileViolation v : new OWL2DLProfile().checkOntology(o).getViolations()) {
                violations.add(v.toString().replace('\n', ' '));
            }
        }
        Set<OWLAxiom> axioms = closure.stream().flatMap(OWLOntology::axioms).collect(Collectors.toSet());
        System.out.println("ontologies=" + closure.size());
        System.out.println("unparsed_triples=" + unparsed);
        System.out.println("guessed_declarations=" + guessed);
        System.out.println("profile_violations=" + violations.size());
        System.out.println("axioms=" + axioms.size());
        System.out.println("logical_axioms=" + axioms.stream().filter(OWLAxiom::isLogicalAxiom).count());
        System.out.println("declaration_axioms=" + axioms.stream().filter(a -> a instanceof OWLDeclarationAxiom).count());
        System.out.println("annotation_assertions="
                + axioms.stream().filter(a -> a instanceof OWLAnnotationAssertionAxiom).count());
        System.out.println("classes=" + signature(closure, o -> o.classesInSignature()));
        System.out.println("object_properties=" + signature(closure, o -> o.objectPropertiesInSignature()));
        System.out.println("data_properties=" + signature(closure, o -> o.dataPropertiesInSignature()));
        System.out.println("annotation_properties=" + signature(closure, o -> o.annotationPropertiesInSignature()));
        System.out.println("individuals=" + signature(closure, o -> o.individualsInSignature()));
        for (String triple : unparsedSamples) System.out.println("unparsed: " + triple);
        int shown = 0;
        for (String v : violations) {
            if (shown++ >= SAMPLES) break;
            System.out.println("violation: " + v);
        }

        if (mode.equals("roundtrip")) {
            out.mkdirs();
            for (int i = 0; i < loaded.size(); i++) {
                OWLOntology o = loaded.get(i);
                String name = inputs.get(i).getName().replaceFirst("\\.[^.]*$", "");
                OWLDocumentFormat original = manager.getOntologyFormat(o);
                RDFXMLDocumentFormat rdfxml = new RDFXMLDocumentFormat();
                TurtleDocumentFormat turtle = new TurtleDocumentFormat();
                if (original instanceof PrefixDocumentFormat) {
                    rdfxml.copyPrefixesFrom((PrefixDocumentFormat) original);
                    turtle.copyPrefixesFrom((PrefixDocumentFormat) original);
                }
                File owlFile = new File(out, name + ".owl");
                File ttlFile = new File(out, name + ".ttl");
                manager.saveOntology(o, rdfxml, IRI.create(owlFile.getAbsoluteFile()));
                manager.saveOntology(o, turtle, IRI.create(ttlFile.getAbsoluteFile()));
                System.out.println("saved: " + owlFile.getAbsolutePath());
                System.out.println("saved: " + ttlFile.getAbsolutePath());
            }
        }
    }

    private static long signature(Set<OWLOntology> closure,
                                  java.util.function.Function<OWLOntology, Stream<? extends OWLEntity>> entities) {
        return closure.stream().flatMap(entities).distinct().count();
    }
}
