"""The web face: views compute one data dict each, Jinja templates render it as HTML (or it is sent as JSON),
static files (our scripts and CSS, and the vendored YASGUI and Swagger UI) are served by the service itself."""
