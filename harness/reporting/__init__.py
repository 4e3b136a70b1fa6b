"""What a run tells its reader: the terminal summary, the certificate and its writers (JSON,
Markdown, HTML), Allure.
"""
