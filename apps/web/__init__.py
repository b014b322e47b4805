"""What every page and API view of the portal shares (no feature of its own):

- ``pages``  the company page decorator (membership, role, the company in the request),
             service errors shown on the page, the template context of a company page
- ``api``    the company API view (membership, role, token scopes), pagination, the
             exception handler, query-parameter helpers
"""
