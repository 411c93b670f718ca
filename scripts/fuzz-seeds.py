#!/usr/bin/env python3
"""Writes the first inputs of the import fuzz targets into fuzz/corpus/TARGET/ (not committed):
CSV files in UTF-8, UTF-8 with BOM, GBK and UTF-16 with comma, tab and semicolon separators;
XLSX workbooks built here from their XML (a whole file, and the sheet/shared-strings form the
`xlsx` target packs itself); and header rows of the exports of Salesforce, HubSpot, Zoho,
纷享销客, 销售易 and Xiansuo. Existing files are overwritten; the corpus grows from them.

    scripts/fuzz-seeds.py
"""

import io
import pathlib
import zipfile

CORPUS = pathlib.Path(__file__).resolve().parent.parent / "fuzz" / "corpus"

HEADER_ROWS = {
    "salesforce": "FirstName\nLastName\nCompany\nTitle\nPhone\nMobilePhone\nEmail\nLeadSource\nStatus\nIndustry\nNumberOfEmployees\nState\nCity\nDescription\nId\nIsConverted\nConvertedDate\nConvertedAccountId",
    "hubspot": "First Name\nLast Name\nCompany Name\nJob Title\nPhone Number\nEmail\nLead Status\nLifecycle Stage\nOriginal Source\nState/Region\nRecord ID\nAssociated Company\nDeal Name\nDeal Stage\nAmount\nClose Date",
    "zoho": "Lead Name\nFull Name\nCompany\nDesignation\nMobile\nEmail\nLead Source\nLead Status\nNo. of Employees\nRecord Id\nAccount Name\nContact Name\nActivity Assigned To",
    "fxiaoke": "姓名\n手机\n公司名称\n职务\n电子邮件\n线索来源\n线索状态\n所属行业\n省份\n城市\n备注\n负责人\n客户名称\n商机名称\n销售阶段\n金额\n创建时间",
    "xiaoshouyi": "联系人姓名\n手机号码\n单位名称\n岗位\n邮箱\n来源渠道\n等级\n评分\n员工人数\n外部编号\n编号\n跟进人\n联系人\n销售机会\n大区",
    "xiansuo": "name\ncompany\nphone\nemail\nsource\nstatus\ngrade\nscore\ncompany_size\nexternal_id\ntags\nregion_code\n\n手机=phone\nCompany=ignore\nstage:Closed Won=won\nNotes=custom.region_code",
}

CSV_ROWS = [
    ["姓名", "手机", "公司", "邮箱", "来源"],
    ["张三", "13800138000", "北京星辰科技有限公司", "zhang@example.cn", "展会"],
    ["李四", "+86 139 0013 9000", "上海云海信息技术有限公司", "", "官网"],
    ["Wang, Wu", '"quoted" 王五', "", "wang@example.com", "Web"],
]


def csv_text(rows, separator):
    def cell(value):
        if any(c in value for c in (separator, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(separator.join(cell(v) for v in row) + "\r\n" for row in rows)


def column_name(index):
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def sheet_parts(rows):
    """A worksheet with shared strings for text and numbers as numbers, and the strings' XML."""
    strings = []
    xml_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{column_name(c)}{r}"
            if value.isdigit():
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            elif value:
                strings.append(value)
                cells.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
        xml_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    xml_rows.append('<row r="9"><c r="A9"><v>45000.5</v></c><c r="C9" t="b"><v>1</v></c>'
                    '<c r="D9" t="inlineStr"><is><t>内联</t></is></c><c r="E9" t="e"><v>#N/A</v></c></row>')
    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {main}>'
             f'<sheetData>{"".join(xml_rows)}</sheetData></worksheet>')
    escaped = [s.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;") for s in strings]
    shared = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {main} '
              f'count="{len(strings)}" uniqueCount="{len(strings)}">'
              + "".join(f"<si><t>{s}</t></si>" for s in escaped) + "</sst>")
    return sheet.encode(), shared.encode()


def workbook(sheet, shared, compression):
    ns = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{ns}/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="线索" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{ns}/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": shared,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    return out.getvalue()


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def main():
    for name, text in HEADER_ROWS.items():
        write("headers", name, text)
    for separator, label in ((",", "comma"), ("\t", "tab"), (";", "semicolon")):
        text = csv_text(CSV_ROWS, separator)
        write("csv", f"utf8-{label}", text)
        write("csv", f"utf8-bom-{label}", b"\xef\xbb\xbf" + text.encode())
        write("csv", f"gbk-{label}", text.encode("gbk"))
    write("csv", "utf16le", b"\xff\xfe" + csv_text(CSV_ROWS, ",").encode("utf-16-le"))
    write("csv", "utf16be", b"\xfe\xff" + csv_text(CSV_ROWS, ",").encode("utf-16-be"))
    sheet, shared = sheet_parts(CSV_ROWS)
    write("xlsx", "stored.xlsx", workbook(sheet, shared, zipfile.ZIP_STORED))
    write("xlsx", "deflated.xlsx", workbook(sheet, shared, zipfile.ZIP_DEFLATED))
    write("xlsx", "parts", b"\x01" + sheet + b"\x00" + shared)
    for target in ("contact", "names", "dates"):
        (CORPUS / target).mkdir(parents=True, exist_ok=True)


if __name__ == "__main__":
    main()
