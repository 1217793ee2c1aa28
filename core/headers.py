"""The Content Security Policy middleware (django-csp), with the pages that need
inline styles.

The policy itself is CONTENT_SECURITY_POLICY in settings: scripts and styles from this
origin only. Three pages carry inline styles they do not control: drf-spectacular's
Swagger UI page (one <style> block), ReDoc (styles it injects as it renders) and the
admin (django-tenants' index template).
There, and only there, inline styles are allowed; scripts stay 'self' everywhere.
Styles cannot run code.
"""

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts

INLINE_STYLE_PATH_PREFIXES = ("/admin/", "/api/docs/", "/api/redoc/")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(INLINE_STYLE_PATH_PREFIXES):
            parts.update = {**(parts.update or {}), "style-src": [UNSAFE_INLINE]}
        return parts
