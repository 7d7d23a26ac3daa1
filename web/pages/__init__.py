"""The people's pages: server-rendered HTML for staff and victims.

Every page works without JavaScript; scripts only enhance. Nothing loads from another
host: styles and scripts are served from `static/` by the app itself.
"""
