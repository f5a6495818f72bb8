"""The Streamlit app: custom routes (login, logout, media) and role-based pages."""
