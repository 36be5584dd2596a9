"""Limits that more than Django needs to know (no Django import: scripts/prod_nginx_conf.sh reads this
file with plain python3 to render nginx's client_max_body_size from the same number)."""

import os

# The largest request body accepted (all photos of a job together, plus the form fields). A Premium
# job sends up to 10 photos; phone photos are 2-8 MB each. Larger bodies get 413 with a sentence.
UPLOAD_MAX_REQUEST_BYTES = int(os.environ.get("LLS_UPLOAD_MAX_REQUEST_BYTES", str(48 * 1024 * 1024)))
