// Loads the ontology with the OWL API (the library Protege is built on) and reports what Protege would see:
// unparsed triples, guessed declarations, OWL 2 DL profile violations, axiom counts.
// Usage: OwlApiCheck check <ontology-file> [<iri>=<file> ...]
//        OwlApiCheck roundtrip <ontology-file> <out-dir> [<iri>=<file> ...]   (saves as Protege would)
import java.io.File;
import java.util.*;
import java.util.stream.*;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.formats.RDFXMLDocumentFormat;
import org.semanticweb.owlapi.formats.TurtleDocumentFormat;
import org.semanticweb.owlapi.io.OWLOntologyLoaderMetaData;
import org.semanticweb.owlapi.io.RDFParserMetaData;
import org.semanticweb.owlapi.model.*;
import org.semanticweb.owlapi.model.parameters.Imports;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;
import org.semanticweb.owlapi.util.SimpleIRIMapper;

public class OwlApiCheck {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        File input = new File(args[1]);
        int mappingsFrom = mode.equals("roundtrip") ? 3 : 2;
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        for (int i = mappingsFrom; i < args.length; i++) {
            String[] pair = args[i].split("=", 2);
            manager.getIRIMappers().add(new SimpleIRIMapper(IRI.create(pair[0]), IRI.create(new File(pair[1]))));
        }
        OWLOntology ontology = manager.loadOntologyFromOntologyDocument(input);
        long unparsed = 0;
        long guessed = 0;
        List<String> unparsedSamples = new ArrayList<>();
        for (OWLOntology o : ontology.getImportsClosure()) {
            Optional<OWLOntologyLoaderMetaData> meta = manager.getOntologyFormat(o).getOntologyLoaderMetaData();
            if (meta.isPresent() && meta.get() instanceof RDFParserMetaData) {
                RDFParserMetaData rdf = (RDFParserMetaData) meta.get();
                List<String> triples = rdf.getUnparsedTriples().map(Object::toString).collect(Collectors.toList());
                unparsed += triples.size();
                unparsedSamples.addAll(triples.subList(0, Math.min(5, triples.size())));
                guessed += rdf.getGuessedDeclarations().size();
            }
        }
        OWLProfileReport report = new OWL2DLProfile().checkOntology(ontology);
        List<OWLProfileViolation> violations = report.getViolations();
        Set<OWLAxiom> axioms = ontology.getImportsClosure().stream().flatMap(o -> o.axioms()).collect(Collectors.toSet());
        System.out.println("unparsed_triples=" + unparsed);
        System.out.println("guessed_declarations=" + guessed);
        System.out.println("profile_violations=" + violations.size());
        System.out.println("axioms=" + axioms.size());
        System.out.println("logical_axioms=" + axioms.stream().filter(OWLAxiom::isLogicalAxiom).count());
        System.out.println("classes=" + ontology.classesInSignature(Imports.INCLUDED).count());
        System.out.println("object_properties=" + ontology.objectPropertiesInSignature(Imports.INCLUDED).count());
        System.out.println("data_properties=" + ontology.dataPropertiesInSignature(Imports.INCLUDED).count());
        System.out.println("individuals=" + ontology.individualsInSignature(Imports.INCLUDED).count());
        for (String triple : unparsedSamples) System.out.println("unparsed: " + triple);
        for (OWLProfileViolation v : violations.subList(0, Math.min(20, violations.size()))) {
            System.out.println("violation: " + v.toString().replace('\n', ' '));
        }
        if (mode.equals("roundtrip")) {
            File out = new File(args[2]);
            for (OWLOntology o : ontology.getImportsClosure()) {
                String name = o.getOntologyID().getOntologyIRI().get().getShortForm();
                manager.saveOntology(o, new RDFXMLDocumentFormat(), IRI.create(new File(out, name + ".owl")));
                manager.saveOntology(o, new TurtleDocumentFormat(), IRI.create(new File(out, name + ".ttl")));
                System.out.println("saved=" + name);
            }
        }
    }
}
