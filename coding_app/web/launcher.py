"""What `streamlit run` starts: the Streamlit app plus obscode's own routes.

`obscode run` (or `streamlit run coding_app/web/launcher.py`) finds the ``app`` variable.
"""

from pathlib import Path

from starlette.middleware import Middleware
from streamlit import App

from coding_app.web.oidc_callback import AuditRefusedCallbacks
from coding_app.web.routes import routes

app = App(Path(__file__).with_name("app.py"), routes=routes(), middleware=[Middleware(AuditRefusedCallbacks)])
