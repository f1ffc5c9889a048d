"""Company data: a lead's domain from its company name (`resolution`), and its company's firmographics with
a completeness score (`profile`), through provider ports (`ports`); docs/company-data.md."""
