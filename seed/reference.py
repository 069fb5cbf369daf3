"""Reference data (domain §3, §5, §6, §10). Loading is idempotent: existing codes are kept."""
from models import CancellationReason, Province, RefusalGround, Specialty, database

PROVINCES = [
    ('11', '北京', '京'), ('12', '天津', '津'), ('13', '河北', '冀'), ('14', '山西', '晋'), ('15', '内蒙古', '蒙'),
    ('21', '辽宁', '辽'), ('22', '吉林', '吉'), ('23', '黑龙江', '黑'), ('31', '上海', '沪'), ('32', '江苏', '苏'),
    ('33', '浙江', '浙'), ('34', '安徽', '皖'), ('35', '福建', '闽'), ('36', '江西', '赣'), ('37', '山东', '鲁'),
    ('41', '河南', '豫'), ('42', '湖北', '鄂'), ('43', '湖南', '湘'), ('44', '广东', '粤'), ('45', '广西', '桂'),
    ('46', '海南', '琼'), ('50', '重庆', '渝'), ('51', '四川', '川'), ('52', '贵州', '黔'), ('53', '云南', '云'),
    ('54', '西藏', '藏'), ('61', '陕西', '陕'), ('62', '甘肃', '甘'), ('63', '青海', '青'), ('64', '宁夏', '宁'),
    ('65', '新疆', '新'),
]

# (code, name, seal abbreviation, needs a joint review by another ministry)
SPECIALTIES = [
    ('01', '建筑工程', '建筑', False), ('02', '公路工程', '公路', True), ('03', '铁路工程', '铁路', True),
    ('04', '民航机场工程', '民航', True), ('05', '港口与航道工程', '港航', True), ('06', '水利水电工程', '水利', True),
    ('07', '市政公用工程', '市政', False), ('08', '通信与广电工程', '通信', True), ('09', '矿业工程', '矿业', False),
    ('10', '机电工程', '机电', False),
]

REFUSAL_GROUNDS = [
    '不具有完全民事行为能力',
    '申请在两个或者两个以上单位注册',
    '未达到注册建造师继续教育要求',
    '受到刑事处罚，刑事处罚尚未执行完毕',
    '因执业活动受到刑事处罚，自刑事处罚执行完毕之日起至申请注册之日止不满5年',
    '因前项规定以外的原因受到刑事处罚，自处罚决定之日起至申请注册之日止不满3年',
    '被吊销注册证书，自处罚决定之日起至申请注册之日止不满2年',
    '在申请注册之日前3年内担任项目经理期间，所负责项目发生过重大质量和安全事故',
    '申请人的聘用单位不符合注册单位要求',
    '年龄超过65周岁',
    '法律、法规规定不予注册的其他情形',
    '隐瞒有关情况或者提供虚假材料申请注册',
]

CANCELLATION_REASONS = [
    '聘用单位破产', '聘用单位被吊销营业执照', '聘用单位被吊销或者撤回资质证书', '已与聘用单位解除聘用合同关系',
    '注册有效期满且未延续注册', '年龄超过65周岁', '死亡或不具有完全民事行为能力', '依法被撤销注册',
    '依法被吊销注册证书', '受到刑事处罚', '其他导致注册失效的情形', '法律、法规规定应当注销注册的其他情形',
]


def load_reference():
    """Insert missing reference rows; never changes or deletes existing ones."""
    with database.atomic():
        Province.insert_many([{'code': c, 'name': n, 'abbr': a} for c, n, a in PROVINCES]) \
            .on_conflict_ignore().execute()
        Specialty.insert_many([{'code': c, 'name': n, 'abbr': a, 'joint_review': j, 'sort': i}
                               for i, (c, n, a, j) in enumerate(SPECIALTIES)]).on_conflict_ignore().execute()
        RefusalGround.insert_many([{'code': str(i), 'text': t, 'sort': i}
                                   for i, t in enumerate(REFUSAL_GROUNDS, 1)]).on_conflict_ignore().execute()
        CancellationReason.insert_many([{'code': str(i), 'text': t, 'sort': i}
                                        for i, t in enumerate(CANCELLATION_REASONS, 1)]) \
            .on_conflict_ignore().execute()
