"""Plain-English questions answered by the stored queries, with the evidence behind each answer."""
