/*
 * Hard cases: small invented record sets that reproduce matching failures
 * reported by people who run customer master data and patient indexes.
 * Each case lists pairs with the right decision (and any other acceptable
 * one) and, for some, the right grouping into customers.
 *
 * A pair's decision comes from ecif_compare(): MATCH is "match",
 * POSSIBLE_MATCH is "review", NO_MATCH is "no_match". Groupings come from a
 * snapshot built from the case's records.
 *
 * A pair whose right decision depends on the other records of its case is
 * decided by resolving its first record against a store of the others.
 * A case whose capability the engine does not have yet would be listed
 * with enforced = false, so the test prints it and does not fail on it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "model.h"
#include "resolve.h"
#include "status.h"
#include "store.h"
#include "unit.h"

struct case_record {
    const char *source_system;
    const char *source_id;
    const char *name;
    const char *id_number;
    const char *phone;
    const char *email;
    const char *address;
    const char *dob;
    const char *gender;
};

enum decision {
    DECIDE_MATCH = 1,
    DECIDE_REVIEW = 2,
    DECIDE_NO_MATCH = 4,
};

struct case_pair {
    const char *a;
    const char *b;
    unsigned allowed; /* enum decision bits */
};

/* twins_false_merge: */
static const struct case_record bh_001_records[] = {
    {"his_outpatient", "OP-20871", "林子涵", "440305201803120024",
     "13926410587", NULL, "广东省深圳市南山区龙珠四路18号3栋1202", "2018-03-12",
     "F"},
    {"his_outpatient", "OP-20872", "林子轩", "440305201803120112",
     "13926410587", NULL, "广东省深圳市南山区龙珠四路18号3栋1202", "2018-03-12",
     "M"},
    {"lab_lis", "LIS-55310", "林子涵", NULL, "13926410587", NULL, NULL,
     "2018-03-12", "F"},
    {"school_health", "SH-0931", "Oliver Grant", NULL, "+44 20 7946 0321",
     "grant.family@example.com", "14 Larch Close, Reading", "2016-09-30", "M"},
    {"school_health", "SH-0932", "Owen Grant", NULL, "+44 20 7946 0321",
     "grant.family@example.com", "14 Larch Close, Reading", "2016-09-30", "M"},
};
static const struct case_pair bh_001_pairs[] = {
    {"OP-20871", "OP-20872", DECIDE_NO_MATCH},
    {"LIS-55310", "OP-20871", DECIDE_MATCH},
    {"LIS-55310", "OP-20872", DECIDE_NO_MATCH},
    {"SH-0931", "SH-0932", DECIDE_NO_MATCH},
};
static const char *const bh_001_clusters[] = {
    "OP-20871", "LIS-55310", NULL,      "OP-20872", NULL,
    "SH-0931",  NULL,        "SH-0932", NULL,       NULL,
};
/* generational_suffix: */
static const struct case_record bh_002_records[] = {
    {"core_banking", "CB-300118", "Daniel R. Whitaker Sr.", NULL,
     "+1-503-555-0142", "d.whitaker@example.com",
     "1420 NE Alder St, Portland, OR 97232", "1958-11-02", "M"},
    {"credit_card", "CC-7781", "Daniel Whitaker Jr", NULL, "+1-503-555-0142",
     "dan.whitaker.jr@example.com", "1420 NE Alder St, Portland, OR 97232",
     "1986-05-19", "M"},
    {"mobile_app", "APP-55102", "Daniel Whitaker", NULL, "+1-503-555-0177",
     "dan.whitaker.jr@example.com", "1420 NE Alder St, Portland, OR 97232",
     "1986-05-19", "M"},
    {"wealth_mgmt", "WM-2093", "Daniel Whitaker", NULL, "+1-503-555-0142", NULL,
     "1420 NE Alder St, Portland, OR 97232", NULL, "M"},
};
static const struct case_pair bh_002_pairs[] = {
    {"CB-300118", "CC-7781", DECIDE_NO_MATCH},
    {"CC-7781", "APP-55102", DECIDE_MATCH},
    {"CB-300118", "APP-55102", DECIDE_NO_MATCH},
    {"WM-2093", "CB-300118", DECIDE_REVIEW},
    {"WM-2093", "CC-7781", DECIDE_REVIEW},
};
/* WM-2093 matches father and son about equally, so it joins neither. */
static const char *const bh_002_clusters[] = {
    "CB-300118", NULL, "CC-7781", "APP-55102", NULL, "WM-2093", NULL, NULL,
};
/* dob_day_month_swap: */
static const struct case_record bh_003_records[] = {
    {"his_inpatient", "IP-88120", "周敏", "31010419850407002X", "13671829403",
     NULL, "上海市徐汇区漕溪北路88弄5号601室", "1985-04-07", "F"},
    {"intl_clinic", "IC-4471", "ZHOU Min", "31010419850407002X",
     "+86 136 7182 9403", "zhou.min85@example.com", NULL, "1985-07-04", "F"},
    {"crm", "CRM-1201", "Sofia Marchetti", NULL, "+1-312-555-0163",
     "sofia.marchetti@example.org", "221 W Erie St, Chicago, IL 60654",
     "1979-03-11", "F"},
    {"crm", "CRM-1202", "Sofia Marchetti", NULL, "+1-312-555-0163",
     "sofia.marchetti@example.org", "221 W Erie St, Chicago, IL 60654",
     "1979-11-03", "F"},
    {"crm", "CRM-1203", "Sofia Marchetti", NULL, "+1-212-555-0188",
     "smarchetti@example.net", "75 Kent Ave, Brooklyn, NY 11249", "1979-11-30",
     "F"},
};
static const struct case_pair bh_003_pairs[] = {
    {"IP-88120", "IC-4471", DECIDE_MATCH},
    {"CRM-1201", "CRM-1202", DECIDE_MATCH},
    {"CRM-1202", "CRM-1203", DECIDE_NO_MATCH | DECIDE_REVIEW},
    {"CRM-1201", "CRM-1203", DECIDE_NO_MATCH | DECIDE_REVIEW},
};
/* shared_contact_point: */
static const struct case_record bh_004_records[] = {
    {"his_obstetrics", "OB-70315", "何雪梅", "440106199006210241",
     "13802256714", "hexuemei90@example.com",
     "广东省广州市天河区天河北路233号17楼1703", "1990-06-21", "F"},
    {"his_pediatrics", "PD-11820", "陈乐乐", NULL, "13802256714",
     "hexuemei90@example.com", "广东省广州市天河区天河北路233号17楼1703",
     "2023-02-14", "M"},
    {"his_pediatrics", "PD-11821", "陈欣欣", "44010620200903046X",
     "13802256714", "hexuemei90@example.com",
     "广东省广州市天河区天河北路233号17楼1703", "2020-09-03", "F"},
    {"retail_banking", "BK-5531", "梁辉", "440104197708150130", "13560871142",
     "branch.frontdesk@example.com", "广东省广州市越秀区中山五路71号",
     "1977-08-15", "M"},
    {"retail_banking", "BK-5532", "谭伟明", "440103198201290351", "13719264408",
     "branch.frontdesk@example.com", "广东省广州市荔湾区康王中路12号",
     "1982-01-29", "M"},
    {"retail_banking", "BK-5533", "黎秀珍", "440111194904020640", "02086215530",
     "branch.frontdesk@example.com", "广东省广州市白云区机场路300号",
     "1949-04-02", "F"},
};
static const struct case_pair bh_004_pairs[] = {
    {"OB-70315", "PD-11820", DECIDE_NO_MATCH},
    {"OB-70315", "PD-11821", DECIDE_NO_MATCH},
    {"PD-11820", "PD-11821", DECIDE_NO_MATCH},
    {"BK-5531", "BK-5532", DECIDE_NO_MATCH},
    {"BK-5531", "BK-5533", DECIDE_NO_MATCH},
    {"BK-5532", "BK-5533", DECIDE_NO_MATCH},
};
/* placeholder_value_phone: */
static const struct case_record bh_005_records[] = {
    {"account_opening", "OB-1001", "王建国", "110108196210010311",
     "13800000000", NULL, "北京市海淀区学院路30号", "1962-10-01", "M"},
    {"account_opening", "OB-1002", "张海峰", "370102197805140574",
     "+86 138 0000 0000", NULL, "山东省济南市历下区泉城路180号", "1978-05-14",
     "M"},
    {"account_opening", "OB-1003", "李秀英", "420106195509230824", "00000000",
     NULL, "湖北省武汉市武昌区中南路99号", "1955-09-23", "F"},
    {"us_branch", "OB-1004", "Maria Lopez", NULL, "000-000-0000",
     "maria.lopez@example.com", "310 S Alamo St, San Antonio, TX", "1991-04-27",
     "F"},
    {"us_branch", "OB-1005", "Maria Lopez", NULL, "(000) 000-0000",
     "mlopez.sa@example.net", "5200 N Mesa St, El Paso, TX", "1984-12-02", "F"},
};
static const struct case_pair bh_005_pairs[] = {
    {"OB-1001", "OB-1002", DECIDE_NO_MATCH},
    {"OB-1001", "OB-1003", DECIDE_NO_MATCH},
    {"OB-1004", "OB-1005", DECIDE_NO_MATCH},
};
/* missing_values: */
static const struct case_record bh_007_records[] = {
    {"crm", "CRM-201", "陈静", NULL, NULL, NULL,
     "四川省成都市武侯区科华北路65号", "1988-08-08", "F"},
    {"crm", "CRM-202", "陈静", NULL, NULL, NULL, "浙江省杭州市西湖区文三路90号",
     "1993-01-21", "F"},
    {"wechat_miniapp", "CRM-203", "陈静", NULL, NULL, NULL, NULL, NULL, "F"},
    {"mdm_feed", "MDM-11", "Peter Novak", NULL, NULL, "peter.novak@example.com",
     "Chicago, IL 60601", NULL, "M"},
    {"mdm_feed", "MDM-12", "Adam Novak", NULL, NULL, NULL, "Seattle, WA 98101",
     NULL, "M"},
    {"hospital_emr", "HOS-31", "Aisha Rahman", NULL, "+44 161 496 0732",
     "aisha.rahman@example.com", "22 Wilmslow Rd, Manchester", "1995-10-09",
     "F"},
    {"gp_clinic", "HOS-32", "Aisha Rahman", NULL, "+44 161 496 0732", NULL,
     NULL, "1995-10-09", "F"},
};
static const struct case_pair bh_007_pairs[] = {
    {"CRM-201", "CRM-202", DECIDE_NO_MATCH},
    {"CRM-201", "CRM-203", DECIDE_NO_MATCH | DECIDE_REVIEW},
    {"MDM-11", "MDM-12", DECIDE_NO_MATCH},
    {"HOS-31", "HOS-32", DECIDE_MATCH},
};
/* transitive_chaining: */
static const struct case_record bh_008_records[] = {
    {"core_banking", "CB-410021", "黄志明", "44030419750505019X", "13826618830",
     "zm.huang@example.com", "广东省深圳市福田区莲花路2008号15A", "1975-05-05",
     "M"},
    {"mobile_app", "APP-88310", "黄志明", NULL, "13826618830",
     "junjie.huang01@example.com", "广东省深圳市福田区莲花路2008号15A",
     "1975-05-05", "M"},
    {"credit_card", "CC-66102", "黄俊杰", "440304200110100353", "15012873356",
     "junjie.huang01@example.com", "广东省深圳市福田区莲花路2008号15A",
     "2001-10-10", "M"},
    {"mobile_app", "APP-88977", "黄俊杰", NULL, "15012873356",
     "hjj.work@example.com", "广东省广州市番禺区大学城外环西路100号",
     "2001-10-10", "M"},
};
static const struct case_pair bh_008_pairs[] = {
    {"CB-410021", "APP-88310", DECIDE_MATCH},
    {"CC-66102", "APP-88977", DECIDE_MATCH},
    {"APP-88310", "CC-66102", DECIDE_NO_MATCH},
    {"CB-410021", "CC-66102", DECIDE_NO_MATCH},
    {"CB-410021", "APP-88977", DECIDE_NO_MATCH},
    {"APP-88310", "APP-88977", DECIDE_NO_MATCH},
};
static const char *const bh_008_clusters[] = {
    "CB-410021", "APP-88310", NULL, "CC-66102", "APP-88977", NULL, NULL,
};
/* nickname_alias: */
static const struct case_record bh_009_records[] = {
    {"core_banking", "CB-9001", "Robert J. Hughes", NULL, "+1-617-555-0119",
     "rhughes68@example.com", "88 Beacon St, Boston, MA 02108", "1968-09-17",
     "M"},
    {"mobile_app", "APP-9002", "Bob Hughes", NULL, "+1-617-555-0119",
     "rhughes68@example.com", NULL, "1968-09-17", "M"},
    {"crm", "CRM-9003", "Christopher Dunn", NULL, "+1-415-555-0136",
     "c.dunn@example.org", "500 Terry A Francois Blvd, San Francisco, CA",
     "1990-01-05", "M"},
    {"event_signup", "CRM-9004", "Chris Dunn", NULL, "+1-415-555-0136", NULL,
     NULL, "1990-01-05", "M"},
    {"crm", "CRM-9005", "Marshall Pike", NULL, "+1-702-555-0148", NULL,
     "3300 Desert Inn Rd, Las Vegas, NV", "1983-02-11", "M"},
    {"crm", "CRM-9006", "Martin Pike", NULL, "+1-702-555-0148", NULL,
     "3300 Desert Inn Rd, Las Vegas, NV", "1986-06-30", "M"},
    {"core_banking", "CB-9101", "王晓明", "33010619920417053X", "13757104288",
     NULL, "浙江省杭州市西湖区天目山路148号", "1992-04-17", "M"},
    {"hk_branch", "HK-9102", "Tony Wang", "33010619920417053X",
     "+852 6390 1187", "tony.wang@example.com", "香港中環德輔道中68號",
     "1992-04-17", "M"},
};
static const struct case_pair bh_009_pairs[] = {
    {"CB-9001", "APP-9002", DECIDE_MATCH},
    {"CRM-9003", "CRM-9004", DECIDE_MATCH},
    {"CRM-9005", "CRM-9006", DECIDE_NO_MATCH},
    {"CB-9101", "HK-9102", DECIDE_MATCH},
};
/* name_order_swap: */
static const struct case_record bh_010_records[] = {
    {"his_outpatient", "OP-5501", "张伟", "110105199012080372", "15801236698",
     NULL, "北京市朝阳区建国路88号", "1990-12-08", "M"},
    {"intl_insurance", "INS-5502", "ZHANG WEI", "110105199012080372",
     "+86 158 0123 6698", "zhangwei.1208@example.com", NULL, "1990-12-08", "M"},
    {"lab_lis", "LAB-5503", "Wei Zhang", NULL, "15801236698", NULL, NULL,
     "1990-12-08", "M"},
    {"lab_lis", "LAB-5504", "Wei Zhang", NULL, "18611047752", NULL, NULL,
     "1988-04-19", "M"},
    {"crm", "CRM-5505", "Grant Elliot", NULL, "+1-206-555-0171", NULL,
     "4521 Fremont Ave N, Seattle, WA", "1977-12-01", "M"},
    {"crm", "CRM-5506", "Elliot Grant", NULL, "+1-206-555-0171", NULL,
     "4521 Fremont Ave N, Seattle, WA", "1977-12-01", "M"},
};
static const struct case_pair bh_010_pairs[] = {
    {"OP-5501", "INS-5502", DECIDE_MATCH},
    {"OP-5501", "LAB-5503", DECIDE_MATCH},
    {"INS-5502", "LAB-5503", DECIDE_MATCH},
    {"OP-5501", "LAB-5504", DECIDE_NO_MATCH},
    {"LAB-5503", "LAB-5504", DECIDE_NO_MATCH},
    {"CRM-5505", "CRM-5506", DECIDE_MATCH},
};
/* polyphonic_surname: */
static const struct case_record bh_011_records[] = {
    {"core_banking", "CB-6101", "曾晓东", "430104198307260155", "13975120846",
     "zxd0726@example.com", "湖南省长沙市岳麓区麓山南路932号", "1983-07-26",
     "M"},
    {"overseas_branch", "OS-6102", "ZENG XIAODONG", NULL, "+86 139 7512 0846",
     "zxd0726@example.com", NULL, "1983-07-26", "M"},
    {"core_banking", "CB-6103", "单丽华", "370203197903040683", "13589023317",
     NULL, "山东省青岛市市北区辽宁路120号", "1979-03-04", "F"},
    {"overseas_branch", "OS-6104", "SHAN LIHUA", NULL, "+86 135 8902 3317",
     NULL, NULL, "1979-03-04", "F"},
    {"core_banking", "CB-6105", "解文斌", "140105198609110715", "13835176620",
     NULL, "山西省太原市小店区长风街115号", "1986-09-11", "M"},
    {"overseas_branch", "OS-6106", "XIE WENBIN", NULL, "13835176620", NULL,
     NULL, "1986-09-11", "M"},
    {"overseas_branch", "OS-6107", "DAN LIHUA", NULL, "+86 186 5327 4190", NULL,
     NULL, "1981-12-19", "F"},
};
static const struct case_pair bh_011_pairs[] = {
    {"CB-6101", "OS-6102", DECIDE_MATCH},
    {"CB-6103", "OS-6104", DECIDE_MATCH},
    {"CB-6105", "OS-6106", DECIDE_MATCH},
    {"CB-6103", "OS-6107", DECIDE_NO_MATCH},
};
/* script_variant_trad_simp: */
static const struct case_record bh_012_records[] = {
    {"hk_branch", "HK-7101", "陳志強", "440303198002180935", "+852 6123 4587",
     "chen.zq@example.com", "香港九龍旺角彌敦道580號", "1980-02-18", "M"},
    {"core_banking", "CB-7102", "陈志强", "440303198002180935", "13728845106",
     "chen.zq@example.com", "广东省深圳市罗湖区人民南路3002号", "1980-02-18",
     "M"},
    {"mobile_app", "APP-7103", "樑家輝", NULL, "13925567781", NULL, NULL,
     "1975-10-30", "M"},
    {"core_banking", "CB-7104", "梁家辉", "440104197510300551", "13925567781",
     NULL, "广东省广州市越秀区北京路188号", "1975-10-30", "M"},
    {"tw_branch", "TW-7105", "李松仁", NULL, "+886 912 604 518",
     "songren.li@example.com", "臺北市大安區復興南路一段390號", "1969-05-08",
     "M"},
    {"migrated_crm", "MIG-7106", "李鬆仁", NULL, "+886 912 604 518",
     "songren.li@example.com", NULL, "1969-05-08", "M"},
    {"tw_branch", "TW-7107", "蕭美玲", NULL, "+886 933 218 406",
     "meiling.hsiao@example.com", "新北市板橋區文化路一段188號", "1984-06-12",
     "F"},
    {"core_banking", "CB-7108", "肖美玲", "35020319840612086X", "13906021934",
     "meiling.hsiao@example.com", "福建省厦门市思明区湖滨南路90号",
     "1984-06-12", "F"},
};
static const struct case_pair bh_012_pairs[] = {
    {"HK-7101", "CB-7102", DECIDE_MATCH},
    {"APP-7103", "CB-7104", DECIDE_MATCH},
    {"TW-7105", "MIG-7106", DECIDE_MATCH},
    {"TW-7107", "CB-7108", DECIDE_REVIEW},
};
/* id_number_format: */
static const struct case_record bh_014_records[] = {
    {"legacy_core", "LG-9201", "孙桂兰", "320102580314042", "025-8447 1236",
     NULL, "江苏省南京市玄武区珠江路280号", "1958-03-14", "F"},
    {"emr", "EMR-9202", "孙桂兰", "320102195803140425", "13851907734", NULL,
     "江苏省南京市玄武区珠江路280号", "1958-03-14", "F"},
    {"his_pediatrics", "PED-9203", "吴浩然", "110105201206050171",
     "13601108826", NULL, "北京市朝阳区朝阳北路101号", "2012-06-05", "M"},
    {"school_clinic", "SCH-9204", "吴浩然", "110105201206050", "13601108826",
     NULL, NULL, "2012-06-05", "M"},
    {"his_geriatrics", "GER-9205", "王淑珍", "110105201206050", "010-6591 3378",
     NULL, "北京市朝阳区朝阳门外大街6号", "1920-12-06", "F"},
    {"legacy_core", "OLD-9206", "顾建华", "320219196703220310",
     "0510-8681 2207", NULL, "江苏省无锡市", "1967-03-22", "M"},
    {"emr", "EMR-9207", "顾建华", "320219196703220310", "13961612385", NULL,
     "江苏省无锡市滨湖区", "1967-03-22", "M"},
    {"his_inpatient", "IP-9208", "符桂英", "460106193807124220", "13876012284",
     NULL, "海南省海口市", "1938-07-12", "F"},
    {"emr", "EMR-9209", "符桂英", "460106193807124220", "13876012284", NULL,
     NULL, "1938-07-12", "F"},
};
static const struct case_pair bh_014_pairs[] = {
    {"LG-9201", "EMR-9202", DECIDE_MATCH},
    {"PED-9203", "SCH-9204", DECIDE_MATCH},
    {"SCH-9204", "GER-9205", DECIDE_NO_MATCH},
    {"PED-9203", "GER-9205", DECIDE_NO_MATCH},
    {"OLD-9206", "EMR-9207", DECIDE_MATCH},
    {"IP-9208", "EMR-9209", DECIDE_MATCH},
};
/* identifier_normalization: */
static const struct case_record bh_015_records[] = {
    {"branch_counter", "CTR-1501", "郑丽娜", "11010519860315018X",
     "+86 139-1052-7736", NULL, "北京市朝阳区东三环中路7号", "1986-03-15", "F"},
    {"mobile_app", "APP-1502", "郑丽娜", "11010519860315018x", "13910527736",
     "zhenglina86@example.com", NULL, "1986-03-15", "F"},
    {"paper_form_ocr", "OCR-1503", "郑丽娜",
     "１１０１０５１９８６０３１５０１８Ｘ", "１３９１０５２７７３６", NULL,
     NULL, "1986-03-15", "F"},
    {"crm", "CRM-1504", "郑丽娜", "110105 19860315 018X", "0086 139 1052 7736",
     NULL, NULL, "1986-03-15", "F"},
    {"his_outpatient", "HIS-1505", "李强", NULL, "(010) 6271 8845", NULL,
     "北京市海淀区中关村大街27号", "1979-05-30", "M"},
    {"his_inpatient", "HIS-1506", "李强", NULL, "+86 10 6271 8845", NULL,
     "北京市海淀区中关村大街27号", "1979-05-30", "M"},
    {"his_outpatient", "HIS-1507", "李强", NULL, "021-62718845", NULL,
     "上海市长宁区延安西路1116号", "1982-09-09", "M"},
    {"his_outpatient", "HIS-1508", "李强", NULL, "62718845", NULL, NULL, NULL,
     "M"},
};
static const struct case_pair bh_015_pairs[] = {
    {"CTR-1501", "APP-1502", DECIDE_MATCH},
    {"CTR-1501", "OCR-1503", DECIDE_MATCH},
    {"CTR-1501", "CRM-1504", DECIDE_MATCH},
    {"APP-1502", "OCR-1503", DECIDE_MATCH},
    {"APP-1502", "CRM-1504", DECIDE_MATCH},
    {"OCR-1503", "CRM-1504", DECIDE_MATCH},
    {"HIS-1505", "HIS-1506", DECIDE_MATCH},
    {"HIS-1505", "HIS-1507", DECIDE_NO_MATCH},
    {"HIS-1508", "HIS-1505", DECIDE_REVIEW | DECIDE_NO_MATCH},
    {"HIS-1508", "HIS-1507", DECIDE_REVIEW | DECIDE_NO_MATCH},
};
/* unicode_normalization: */
static const struct case_record bh_017_records[] = {
    {"crm", "CRM-1701", "José Muñoz", NULL, "+1-305-555-0127",
     "jose.munoz@example.com", "1200 Brickell Ave, Miami, FL", "1982-02-28",
     "M"},
    {"web_signup", "WEB-1702", "José Muñoz", NULL, "+1-305-555-0127",
     "jose.munoz@example.com", NULL, "1982-02-28", "M"},
    {"hospital_emr", "HOS-1703", "Nguyễn Thị Hương", NULL, "+1-714-555-0152",
     "huong.nguyen@example.com", "9200 Bolsa Ave, Westminster, CA",
     "1970-10-20", "F"},
    {"lab_lis", "LAB-1704", "Nguyễn Thị Hương", NULL, "+1-714-555-0152", NULL,
     NULL, "1970-10-20", "F"},
    {"crm", "CRM-1705", "JOSE MUNOZ", NULL, "+1-305-555-0127", NULL, NULL,
     "1982-02-28", "M"},
    {"cn_call_center", "CRM-1706", "ＪＯＳＥ　ＭＵＮＯＺ", NULL, NULL,
     "jose.munoz@example.com", NULL, "1982-02-28", "M"},
    {"crm", "CRM-1707", "Jose Munoz", NULL, "+1-786-555-0190",
     "jmunoz77@example.net", "Hialeah, FL", "1977-06-04", "M"},
};
static const struct case_pair bh_017_pairs[] = {
    {"CRM-1701", "WEB-1702", DECIDE_MATCH},
    {"HOS-1703", "LAB-1704", DECIDE_MATCH},
    {"CRM-1701", "CRM-1705", DECIDE_MATCH},
    {"CRM-1701", "CRM-1706", DECIDE_MATCH},
    {"CRM-1701", "CRM-1707", DECIDE_NO_MATCH},
};
/* pinyin_variants: */
static const struct case_record bh_019_records[] = {
    {"core_banking", "CB-1901", "吕志刚", "410105197608190355", "13937120584",
     "lzg0819@example.com", "河南省郑州市金水区花园路39号", "1976-08-19", "M"},
    {"passport_kyc", "PP-1902", "LYU ZHIGANG", NULL, "+86 139 3712 0584", NULL,
     NULL, "1976-08-19", "M"},
    {"his_outpatient", "HIS-1903", "Lǚ Zhìgāng", NULL, "13937120584", NULL,
     NULL, "1976-08-19", "M"},
    {"mobile_app", "APP-1904", "Lv Zhi-gang", NULL, NULL, "lzg0819@example.com",
     NULL, "1976-08-19", "M"},
    {"crm", "CRM-1905", "ZHIGANG LYU", NULL, "13937120584", NULL, NULL, NULL,
     "M"},
    {"crm", "CRM-1906", "LYUZHIGANG", NULL, NULL, "lzg0819@example.com", NULL,
     NULL, "M"},
    {"insurer_feed", "INS-1907", "Lu Zhigang", NULL, "18638215503", NULL,
     "河南省洛阳市涧西区中州西路22号", "1976-08-19", "M"},
};
static const struct case_pair bh_019_pairs[] = {
    {"CB-1901", "PP-1902", DECIDE_MATCH},
    {"CB-1901", "HIS-1903", DECIDE_MATCH},
    {"CB-1901", "APP-1904", DECIDE_MATCH},
    {"CB-1901", "CRM-1905", DECIDE_MATCH},
    {"CB-1901", "CRM-1906", DECIDE_MATCH},
    {"CB-1901", "INS-1907", DECIDE_REVIEW | DECIDE_NO_MATCH},
};
/* compound_surname: */
static const struct case_record bh_021_records[] = {
    {"crm", "CRM-2101", "María José García López", NULL, "+1-956-555-0114",
     "mj.garcia.lopez@example.com", "2101 N 10th St, McAllen, TX", "1987-09-05",
     "F"},
    {"mobile_app", "APP-2102", "García López, María José", NULL,
     "+1-956-555-0114", "mj.garcia.lopez@example.com", NULL, "1987-09-05", "F"},
    {"credit_card", "CC-2103", "Maria Jose Garcia", NULL, NULL,
     "mj.garcia.lopez@example.com", NULL, "1987-09-05", "F"},
    {"hospital_emr", "HOS-2104", "María García-López", NULL, "+1-956-555-0114",
     NULL, "2101 N 10th St, McAllen, TX", "1987-09-05", "F"},
    {"crm", "CRM-2105", "José García López", NULL, "+1-956-555-0114", NULL,
     "2101 N 10th St, McAllen, TX", "1990-01-14", "M"},
    {"core_banking", "CB-2106", "欧阳明辉", "430602198501300792", "13707301649",
     NULL, "湖南省岳阳市岳阳楼区巴陵中路96号", "1985-01-30", "M"},
    {"passport_kyc", "PP-2107", "OUYANG MINGHUI", NULL, "+86 137 0730 1649",
     NULL, NULL, "1985-01-30", "M"},
    {"mobile_app", "APP-2108", "Minghui Ouyang", NULL, "13707301649", NULL,
     NULL, "1985-01-30", "M"},
    {"core_banking", "CB-2109", "欧明辉", "450103198311080955", "13977163320",
     NULL, "广西壮族自治区南宁市青秀区民族大道136号", "1983-11-08", "M"},
};
static const struct case_pair bh_021_pairs[] = {
    {"CRM-2101", "APP-2102", DECIDE_MATCH},
    {"CRM-2101", "CC-2103", DECIDE_MATCH},
    {"CRM-2101", "HOS-2104", DECIDE_MATCH},
    {"CRM-2101", "CRM-2105", DECIDE_NO_MATCH},
    {"CB-2106", "PP-2107", DECIDE_MATCH},
    {"CB-2106", "APP-2108", DECIDE_MATCH},
    {"CB-2106", "CB-2109", DECIDE_NO_MATCH},
};

/*
 * Pairs decided by resolving the first record against a store of every
 * other record of its case, not by ecif_compare(): their right decision
 * depends on the records around them. WM-2093 matches a father and his
 * son, whom the index keeps apart, equally well. Both decisions are
 * therefore "review", and the result is flagged ambiguous.
 */
static const struct {
    const char *a;
    const char *b;
} resolved_pairs[] = {
    {"WM-2093", "CB-300118"},
    {"WM-2093", "CC-7781"},
};

static bool decided_by_resolve(const char *a, const char *b)
{
    for (size_t i = 0; i < sizeof(resolved_pairs) / sizeof(resolved_pairs[0]);
         i++) {
        if (strcmp(resolved_pairs[i].a, a) == 0 &&
            strcmp(resolved_pairs[i].b, b) == 0)
            return true;
    }
    return false;
}

struct hard_case {
    const char *id;
    const char *kind;
    const struct case_record *records;
    size_t n_records;
    const struct case_pair *pairs;
    size_t n_pairs;
    const char *const *clusters; /* groups ended by NULL, then NULL */
    bool enforced;
};

#define CASE(id, kind, name, clusters, enforced)                               \
    {                                                                          \
        id, kind, name##_records,                                              \
            sizeof(name##_records) / sizeof(name##_records[0]), name##_pairs,  \
            sizeof(name##_pairs) / sizeof(name##_pairs[0]), clusters, enforced \
    }

static const struct hard_case cases[] = {
    CASE("BH-001", "twins_false_merge", bh_001, bh_001_clusters, true),
    CASE("BH-002", "generational_suffix", bh_002, bh_002_clusters, true),
    CASE("BH-003", "dob_day_month_swap", bh_003, NULL, true),
    CASE("BH-004", "shared_contact_point", bh_004, NULL, true),
    CASE("BH-005", "placeholder_value_phone", bh_005, NULL, true),
    CASE("BH-007", "missing_values", bh_007, NULL, true),
    CASE("BH-008", "transitive_chaining", bh_008, bh_008_clusters, true),
    CASE("BH-009", "nickname_alias", bh_009, NULL, true),
    CASE("BH-010", "name_order_swap", bh_010, NULL, true),
    CASE("BH-011", "polyphonic_surname", bh_011, NULL, true),
    CASE("BH-012", "script_variant_trad_simp", bh_012, NULL, true),
    CASE("BH-014", "id_number_format", bh_014, NULL, true),
    CASE("BH-015", "identifier_normalization", bh_015, NULL, true),
    CASE("BH-017", "unicode_normalization", bh_017, NULL, true),
    CASE("BH-019", "pinyin_variants", bh_019, NULL, true),
    CASE("BH-021", "compound_surname", bh_021, NULL, true),
};

static void to_record(const struct case_record *in, ecif_record_t *out)
{
    memset(out, 0, sizeof(*out));
    out->source_system = in->source_system;
    out->source_id = in->source_id;
    out->name = in->name;
    out->id_number = in->id_number;
    if (in->phone != NULL) {
        out->phones[0] = in->phone;
        out->n_phones = 1;
    }
    if (in->email != NULL) {
        out->emails[0] = in->email;
        out->n_emails = 1;
    }
    if (in->address != NULL) {
        out->addresses[0] = in->address;
        out->n_addresses = 1;
    }
    out->dob = in->dob;
    out->gender = in->gender;
}

static const struct case_record *find_record(const struct hard_case *c,
                                             const char *source_id)
{
    for (size_t i = 0; i < c->n_records; i++) {
        if (strcmp(c->records[i].source_id, source_id) == 0)
            return &c->records[i];
    }
    return NULL;
}

static const char *decision_str(unsigned d)
{
    return d == DECIDE_MATCH    ? "match"
           : d == DECIDE_REVIEW ? "review"
                                : "no_match";
}

static ecif_store_t *build_case(const struct hard_case *c, const char *skip);
static uint32_t customer_of(const ecif_store_t *s, const struct hard_case *c,
                            const char *source_id);

/*
 * Resolves record a against a store of the other records of c and
 * returns the verdict of the customer that contains b (NO_MATCH when it
 * is not among the candidates). Sets *quality to the result's flags.
 */
static ecif_verdict_t resolve_pair(const struct hard_case *c,
                                   const struct case_record *a, const char *b,
                                   uint32_t *quality)
{
    ecif_store_t *s = build_case(c, a->source_id);
    ecif_candidate_t out[ECIF_MAX_CANDIDATES];
    ecif_verdict_t verdict = ECIF_NO_MATCH;
    ecif_record_t query;
    size_t count = 0;

    *quality = 0;
    CHECK(s != NULL);
    if (s == NULL)
        return ECIF_NO_MATCH;
    to_record(a, &query);
    CHECK_INT(ecif_resolve_with_quality(s, &query, out, ECIF_MAX_CANDIDATES,
                                        &count, quality),
              ECIF_OK);
    uint32_t customer = customer_of(s, c, b);
    for (size_t i = 0; i < count; i++) {
        if (out[i].customer == customer)
            verdict = out[i].verdict;
    }
    ecif_store_close(s);
    return verdict;
}

/* Returns the number of pairs whose decision is not allowed. */
static int check_pairs(const struct hard_case *c)
{
    int wrong = 0;

    for (size_t i = 0; i < c->n_pairs; i++) {
        const struct case_pair *p = &c->pairs[i];
        const struct case_record *ra = find_record(c, p->a);
        const struct case_record *rb = find_record(c, p->b);
        ecif_record_t a, b;
        ecif_evidence_t evidence[ECIF_FIELD_COUNT];
        ecif_verdict_t verdict;
        double score;
        unsigned got;

        CHECK(ra != NULL);
        CHECK(rb != NULL);
        if (ra == NULL || rb == NULL)
            continue;
        if (decided_by_resolve(p->a, p->b)) {
            uint32_t quality;
            verdict = resolve_pair(c, ra, p->b, &quality);
            score = 0.0;
            memset(evidence, 0, sizeof(evidence));
            if (verdict == ECIF_POSSIBLE_MATCH)
                CHECK(quality & ECIF_QUALITY_AMBIGUOUS_MATCH);
        } else {
            to_record(ra, &a);
            to_record(rb, &b);
            ecif_compare(model_default(), &a, &b, &score, &verdict, evidence);
        }
        got = verdict == ECIF_MATCH            ? DECIDE_MATCH
              : verdict == ECIF_POSSIBLE_MATCH ? DECIDE_REVIEW
                                               : DECIDE_NO_MATCH;
        if ((got & p->allowed) == 0) {
            wrong++;
            fprintf(stderr, "  %s %s ~ %s: %s (score %.2f)", c->id, p->a, p->b,
                    decision_str(got), score);
            for (int f = 0; f < ECIF_FIELD_COUNT; f++)
                fprintf(stderr, " %s=%s(%.1f)", ecif_field_str(f),
                        ecif_level_str(evidence[f].level), evidence[f].weight);
            fprintf(stderr, "\n");
        }
    }
    return wrong;
}

/* Builds a store of the case's records except the one with source id skip,
 * or of all of them when skip is NULL. Returns NULL on failure. */
static ecif_store_t *build_case(const struct hard_case *c, const char *skip)
{
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[512], err[256];
    ecif_builder_options_t opts;
    ecif_builder_t *b = NULL;
    ecif_store_t *store = NULL;

    snprintf(path, sizeof(path), "%s/hard-%s.snap", dir ? dir : "/tmp", c->id);
    ecif_builder_options_default(&opts);
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK)
        return NULL;
    for (size_t i = 0; i < c->n_records; i++) {
        ecif_record_t r;
        if (skip != NULL && strcmp(c->records[i].source_id, skip) == 0)
            continue;
        to_record(&c->records[i], &r);
        int rc = ecif_builder_add_record(b, &r, err, sizeof(err));
        CHECK_INT(rc, ECIF_OK);
        if (rc != ECIF_OK)
            fprintf(stderr, "  %s %s: %s\n", c->id, r.source_id, err);
    }
    if (ecif_builder_write(b, path, NULL, err, sizeof(err)) == ECIF_OK)
        ecif_store_open(path, &store, err, sizeof(err));
    ecif_builder_destroy(b);
    remove(path);
    return store;
}

static uint32_t customer_of(const ecif_store_t *s, const struct hard_case *c,
                            const char *source_id)
{
    const struct case_record *r = find_record(c, source_id);
    uint32_t record;

    if (r == NULL ||
        ecif_store_find_record(s, r->source_system, source_id, &record))
        return UINT32_MAX;
    return ecif_store_record_customer(s, record);
}

/* Returns the number of records grouped against the expected clusters. */
static int check_clusters(const struct hard_case *c)
{
    ecif_store_t *s = build_case(c, NULL);
    const char *const *g = c->clusters;
    uint32_t seen[64];
    size_t n_seen = 0;
    int wrong = 0;

    CHECK(s != NULL);
    if (s == NULL)
        return 1;
    for (; *g != NULL; g++) {
        uint32_t customer = customer_of(s, c, *g);
        for (g++; *g != NULL; g++) {
            if (customer_of(s, c, *g) != customer) {
                wrong++;
                fprintf(stderr, "  %s %s is not grouped with its cluster\n",
                        c->id, *g);
            }
        }
        for (size_t i = 0; i < n_seen; i++) {
            if (seen[i] == customer) {
                wrong++;
                fprintf(stderr, "  %s two clusters share a customer\n", c->id);
            }
        }
        if (n_seen < 64)
            seen[n_seen++] = customer;
    }
    ecif_store_close(s);
    return wrong;
}

int main(void)
{
    int skipped = 0;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct hard_case *c = &cases[i];
        int before = unit_failed_checks;
        int wrong = check_pairs(c);

        if (c->clusters != NULL)
            wrong += check_clusters(c);
        if (!c->enforced) {
            printf("skip %s (%s): %d wrong decisions, not enforced yet\n",
                   c->id, c->kind, wrong);
            unit_failed_checks = before;
            skipped++;
            continue;
        }
        if (wrong == 0 && unit_failed_checks == before) {
            unit_passed_tests++;
        } else {
            fprintf(stderr, "FAIL %s (%s): %d wrong decisions\n", c->id,
                    c->kind, wrong);
            unit_failed_tests++;
            unit_failed_checks++;
        }
    }
    printf("%d skipped\n", skipped);
    return unit_report();
}
