"""Content negotiation: the `format` parameter, else the Accept header's q-values; 406 when nothing fits.

Only the first ranges of an Accept header are read, so a 60 KB header costs what a short one does.
"""

from __future__ import annotations

import re

from kg_service.errors import UnacceptableFormat
from kg_service.sparql import results as fmt

ALIASES = {
    "json": (fmt.JSON_RESULTS, fmt.JSONLD), "srj": fmt.JSON_RESULTS, "xml": (fmt.XML_RESULTS, fmt.RDFXML),
    "srx": fmt.XML_RESULTS,
    "csv": fmt.CSV, "tsv": fmt.TSV, "ttl": fmt.TURTLE, "turtle": fmt.TURTLE, "jsonld": fmt.JSONLD,
    "json-ld": fmt.JSONLD, "nt": fmt.NTRIPLES, "ntriples": fmt.NTRIPLES, "rdfxml": fmt.RDFXML, "rdf": fmt.RDFXML,
    "html": "text/html", "n3": fmt.TURTLE, "rdf+xml": fmt.RDFXML, "json+ld": fmt.JSONLD,
}  # SPARQLWrapper sends format=json|xml|n3|turtle|csv|tsv|json-ld|rdf+xml; json and xml name a results
# format for SELECT/ASK and an RDF format for CONSTRUCT/DESCRIBE (SPARQLWrapper's XML for a CONSTRUCT is RDF/XML).
# Generic types clients send that map onto a specific format of ours, by query form as above.
EQUIVALENTS = {"application/json": (fmt.JSON_RESULTS, fmt.JSONLD), "application/xml": (fmt.XML_RESULTS, fmt.RDFXML),
               "text/xml": (fmt.XML_RESULTS, fmt.RDFXML), "text/plain": fmt.NTRIPLES,
               "application/x-turtle": fmt.TURTLE}


def _specific(name: str, table: dict[str, str | tuple[str, ...]], offered: list[str]) -> str:
    """The offered media type a name or generic type stands for (the name itself when none)."""
    candidates = table.get(name, name)
    if isinstance(candidates, str):
        candidates = (candidates,)
    return next((c for c in candidates if c in offered), candidates[0])
MAX_ACCEPT_CHARS = 8192
_QVALUE = re.compile(r"0(\.\d{0,3})?|1(\.0{0,3})?")


def parse_accept(header: str, max_ranges: int) -> list[str]:
    """Media ranges best first (q-value, then order); ranges with q=0 dropped."""
    ranges = []
    for position, part in enumerate(header[:MAX_ACCEPT_CHARS].split(",")[:max_ranges]):
        media, *params = [p.strip() for p in part.split(";")]
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                # RFC 9110 qvalue: 0 to 1 with at most three decimals; anything else (nan, 5, -1) counts as 0.
                quality = float(value) if _QVALUE.fullmatch(value.strip()) else 0.0
        if media and quality > 0:
            ranges.append((-quality, position, media.lower()))
    return [media for _, _, media in sorted(ranges)]


def choose(offered: list[str], default: str, accept: str | None, format_param: str | None, max_ranges: int) -> str:
    """The media type to answer with, among `offered` (default first when the client does not care)."""
    if format_param is not None:  # given, even empty: it must name a format we offer
        wanted = _specific(_specific(format_param.lower(), ALIASES, offered), EQUIVALENTS, offered)
        if wanted in offered:
            return wanted
        raise UnacceptableFormat(f"format={format_param} is not available for this request.",
                                 hint=f"Available: {', '.join(offered)}.", available=offered)
    if not accept or not accept.strip():
        return default
    for media in parse_accept(accept, max_ranges):
        media = _specific(media, EQUIVALENTS, offered)
        if media in offered:
            return media
        if media == "*/*":
            return default
        if media.endswith("/*"):
            family = media[:-1]
            match = next((o for o in [default, *offered] if o.startswith(family)), None)
            if match:
                return match
    raise UnacceptableFormat("None of the media types in the Accept header is available for this request.",
                             hint=f"Ask for one of: {', '.join(offered)} (or use the format parameter).",
                             available=offered)
