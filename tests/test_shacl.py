"""SHACL shapes (ontology/shapes.ttl): the real ontology conforms; each kind of curator's slip is rejected with a
message that names the node and the rule it breaks."""

from __future__ import annotations

from pathlib import Path

import pytest
from ontology_copies import ONTOLOGY, edited_copy

from kg_service.graph import parse_asserted
from kg_service.validation import check_shacl

KNOWLEDGE = "ks-knowledge.ttl"


def shacl_problems(ontology_dir: Path) -> list[str]:
    return [str(p) for p in check_shacl(parse_asserted(ontology_dir), ontology_dir / "shapes.ttl")]


def test_the_real_ontology_conforms() -> None:
    assert shacl_problems(ONTOLOGY) == []


@pytest.mark.parametrize("old,new,node,rule", [
    pytest.param("    ks:recommends_intervention ks:massage ;\n", "",
                 "ks:rec-knee-synovitis-massage ks:recommends_intervention", "exactly one intervention",
                 id="recommendation-without-intervention"),
    pytest.param("    ks:for_condition ks:knee-synovitis ;\n", "    ks:for_condition ks:massage ;\n",
                 "ks:for_condition", "a ks:Cause or a ks:Symptom", id="recommendation-for-an-intervention"),
    pytest.param("    ks:requires_medical_supervision true ;\n", "    ks:requires_medical_supervision \"yes\" ;\n",
                 "ks:requires_medical_supervision", "xsd:boolean", id="supervision-not-boolean"),
    pytest.param("    ks:has_dosage_form ks:oral-solution ;\n", "",
                 "ks:calcium-gluconate-oral-solution ks:has_dosage_form", "exactly one dosage form",
                 id="drug-without-dosage-form"),
    pytest.param("    ks:has_route ks:oral-route ;\n", "    ks:has_route ks:oral-route , ks:knee-joint ;\n",
                 "ks:has_route", "exactly one route", id="drug-with-two-routes"),
    pytest.param('oa:end "2361"^^xsd:nonNegativeInteger', 'oa:end "2365"^^xsd:nonNegativeInteger',
                 "ks:ev-local-immobilization-1", "41 code points long but its oa:exact quote has 37",
                 id="span-with-wrong-end"),
    pytest.param('oa:end "2361"^^xsd:nonNegativeInteger', 'oa:end "2300"^^xsd:nonNegativeInteger',
                 "ks:ev-local-immobilization-1 oa:hasTarget/oa:hasSelector", "oa:start < oa:end",
                 id="span-ending-before-it-starts"),
    pytest.param("                oa:suffix \". Physical therapies such as acu\" ] ,\n",
                 "                ] ,\n",
                 "ks:ev-local-immobilization-1 oa:hasTarget/oa:hasSelector", "one oa:suffix",
                 id="quote-without-suffix"),
    pytest.param("        oa:hasSource ks:source-article ;\n", "        oa:hasSource ks:women ;\n",
                 "oa:hasTarget/oa:hasSource", "ks:source-article", id="span-on-another-source"),
    pytest.param("    ks:has_evidence ks:ev-osteoporosis-1 , ks:ev-osteoporosis-2 .", "    .",
                 "ks:osteoporosis ks:has_evidence", "at least one ks:has_evidence", id="cause-without-evidence"),
    pytest.param('ks:osteoarthritis a owl:NamedIndividual , ks:DiseaseOrDisorder ;\n',
                 'ks:osteoarthritis a owl:NamedIndividual , ks:DiseaseOrDisorder ;\n    rdfs:label "OA"@en ;\n',
                 "ks:osteoarthritis rdfs:label", "exactly one rdfs:label", id="cause-with-two-labels"),
    pytest.param('    ks:stated_by ks:ev-calcium-deficiency--leads_to_condition--osteoporosis ;\n    ks:hedge "may lead to" .',
                 "    ks:stated_by ks:ev-calcium-deficiency--leads_to_condition--osteoporosis .",
                 "ks:calcium-deficiency", "has no hedge", id="causal-relation-without-hedge"),
    pytest.param("    ks:causes_symptom ks:nocturnal-knee-soreness ;\n", "    ks:causes_symptom ks:nocturnal-knee-soreness , ks:muscle-soreness ;\n",
                 "ks:muscle-soreness", "has no axiom annotation saying where it comes from", id="relation-without-provenance"),
    pytest.param("    dcterms:source <http://purl.bioontology.org/ontology/ATC/M01AE01> ;\n", "",
                 "ks:ibuprofen-sustained-release-capsules", "curated", id="curated-relation-without-reference"),
    pytest.param('    ks:provenance "text" ;\n', "", "ks:nocturnal-knee-soreness", "does not say where it comes from",
                 id="entity-without-provenance"),
])
def test_a_broken_copy_is_rejected_naming_the_node_and_the_rule(tmp_path: Path, old: str, new: str, node: str,
                                                                  rule: str) -> None:
    problems = shacl_problems(edited_copy(tmp_path, KNOWLEDGE, old, new))
    assert problems, "the shapes accepted the broken copy"
    assert any(node in p and rule in p for p in problems), "\n".join(problems)
