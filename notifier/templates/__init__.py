"""Message templates: the files shipped in templates/, stored versions, the Jinja2 security
sandbox they render in, save-time checks and previews.
"""
