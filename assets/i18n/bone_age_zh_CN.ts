<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>bone_age</name>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>打开(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Export report…</source>
        <translation>导出报告(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation>设置(&amp;S)</translation>
    </message>
    <message>
        <source>Label store folder…</source>
        <translation>标签库文件夹…</translation>
    </message>
    <message>
        <source>Reader name…</source>
        <translation>阅片者姓名…</translation>
    </message>
    <message>
        <source>Stage model…</source>
        <translation>分期模型…</translation>
    </message>
    <message>
        <source>Use ONNX Runtime where exported</source>
        <translation>有导出文件时使用 ONNX Runtime</translation>
    </message>
    <message>
        <source>Module</source>
        <translation>模块</translation>
    </message>
    <message>
        <source>Sex</source>
        <translation>性别</translation>
    </message>
    <message>
        <source>Chronological age (y)</source>
        <translation>生活年龄（岁）</translation>
    </message>
    <message>
        <source>Two hands: read</source>
        <translation>双手片：读取</translation>
    </message>
    <message>
        <source>Grey scale</source>
        <translation>灰度</translation>
    </message>
    <message>
        <source>Hand film</source>
        <translation>手部片</translation>
    </message>
    <message>
        <source>Window low</source>
        <translation>窗下限</translation>
    </message>
    <message>
        <source>Window high</source>
        <translation>窗上限</translation>
    </message>
    <message>
        <source>Assess</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Read as stored</source>
        <translation>按原样读取</translation>
    </message>
    <message>
        <source>Skip hand-film check</source>
        <translation>跳过手部片检查</translation>
    </message>
    <message>
        <source>(from file)</source>
        <translation>（取自文件）</translation>
    </message>
    <message>
        <source>female</source>
        <translation>女</translation>
    </message>
    <message>
        <source>male</source>
        <translation>男</translation>
    </message>
    <message>
        <source>left</source>
        <translation>左</translation>
    </message>
    <message>
        <source>right</source>
        <translation>右</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>Bone</source>
        <translation>骨</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>分期</translation>
    </message>
    <message>
        <source>Points</source>
        <translation>分值</translation>
    </message>
    <message>
        <source>Conf.</source>
        <translation>置信度</translation>
    </message>
    <message>
        <source>Open a hand film (File &gt; Open).</source>
        <translation>请打开一张手部X线片（文件 &gt; 打开）。</translation>
    </message>
    <message>
        <source>Research use only; stages need a qualified reader's confirmation.</source>
        <translation>仅供科研使用；各骨分期须经合格阅片者确认。</translation>
    </message>
    <message>
        <source>Open a film first.</source>
        <translation>请先打开一张片子。</translation>
    </message>
    <message>
        <source>Assessing…</source>
        <translation>正在评估…</translation>
    </message>
    <message>
        <source>Assessed in {ms} ms</source>
        <translation>评估用时 {ms} 毫秒</translation>
    </message>
    <message>
        <source>Opening {path}…</source>
        <translation>正在打开 {path}…</translation>
    </message>
    <message>
        <source>Opened {path}</source>
        <translation>已打开 {path}</translation>
    </message>
    <message>
        <source>Cannot open: {reason}</source>
        <translation>无法打开：{reason}</translation>
    </message>
    <message>
        <source>Writing {path}…</source>
        <translation>正在写入 {path}…</translation>
    </message>
    <message>
        <source>Wrote {path}</source>
        <translation>已写入 {path}</translation>
    </message>
    <message>
        <source>Nothing to export: assess a hand film first (reports cover bone age).</source>
        <translation>没有可导出的内容：请先评估一张手部片（报告针对骨龄）。</translation>
    </message>
    <message>
        <source>Run {module}</source>
        <translation>运行{module}</translation>
    </message>
    <message>
        <source>Bone age (RUS-CHN)</source>
        <translation>骨龄（中华05 RUS-CHN）</translation>
    </message>
    <message>
        <source>Fracture</source>
        <translation>骨折</translation>
    </message>
    <message>
        <source>Clavicle</source>
        <translation>锁骨</translation>
    </message>
    <message>
        <source>Bone scan</source>
        <translation>骨扫描</translation>
    </message>
    <message>
        <source>Read as {sex}, {hand} hand</source>
        <translation>按{sex}性、{hand}手读取</translation>
    </message>
    <message>
        <source>Review</source>
        <translation>审阅</translation>
    </message>
    <message>
        <source>Review bones</source>
        <translation>逐骨审阅</translation>
    </message>
    <message>
        <source>Confirm</source>
        <translation>确认</translation>
    </message>
    <message>
        <source>Next unsure bone</source>
        <translation>下一个低置信度骨</translation>
    </message>
    <message>
        <source>Reviewed {n} of 13 bones</source>
        <translation>已审阅 13 块骨中的 {n} 块</translation>
    </message>
    <message>
        <source>Film reviewed: stored in {path}</source>
        <translation>本片已审阅：已存入 {path}</translation>
    </message>
    <message>
        <source>Stage probabilities</source>
        <translation>各分期概率</translation>
    </message>
    <message>
        <source>As the classifier saw it</source>
        <translation>分类器所见</translation>
    </message>
    <message>
        <source>Around it</source>
        <translation>周围区域</translation>
    </message>
    <message>
        <source>Reader's examples of stages {a} and {b}</source>
        <translation>阅片者确认过的第 {a} 期与第 {b} 期示例</translation>
    </message>
    <message>
        <source>No confirmed examples of the neighbouring stages yet</source>
        <translation>标签库中尚无相邻分期的确认示例</translation>
    </message>
    <message>
        <source>Cannot store the labels: {reason}</source>
        <translation>无法保存标签：{reason}</translation>
    </message>
    <message>
        <source>Keys: Up/Down or Tab between bones, digits or +/- to set the stage, Enter to confirm, N for the next unsure bone</source>
        <translation>按键：上/下或 Tab 切换骨，数字或 +/- 设置分期，回车确认，N 跳到下一个低置信度骨</translation>
    </message>
    <message>
        <source>confirmed</source>
        <translation>已确认</translation>
    </message>
    <message>
        <source>corrected</source>
        <translation>已更正</translation>
    </message>
    <message>
        <source>to review</source>
        <translation>待审阅</translation>
    </message>
    <message>
        <source>Radius</source>
        <translation>桡骨</translation>
    </message>
    <message>
        <source>Ulna</source>
        <translation>尺骨</translation>
    </message>
    <message>
        <source>MCPFirst</source>
        <translation>第一掌骨</translation>
    </message>
    <message>
        <source>MCPThird</source>
        <translation>第三掌骨</translation>
    </message>
    <message>
        <source>MCPFifth</source>
        <translation>第五掌骨</translation>
    </message>
    <message>
        <source>PIPFirst</source>
        <translation>第一近节指骨</translation>
    </message>
    <message>
        <source>PIPThird</source>
        <translation>第三近节指骨</translation>
    </message>
    <message>
        <source>PIPFifth</source>
        <translation>第五近节指骨</translation>
    </message>
    <message>
        <source>MIPThird</source>
        <translation>第三中节指骨</translation>
    </message>
    <message>
        <source>MIPFifth</source>
        <translation>第五中节指骨</translation>
    </message>
    <message>
        <source>DIPFirst</source>
        <translation>第一远节指骨</translation>
    </message>
    <message>
        <source>DIPThird</source>
        <translation>第三远节指骨</translation>
    </message>
    <message>
        <source>DIPFifth</source>
        <translation>第五远节指骨</translation>
    </message>
    <message>
        <source>RUS-CHN total score</source>
        <translation>RUS-CHN 总分</translation>
    </message>
    <message>
        <source>Bone age minus chronological age</source>
        <translation>骨龄减生活年龄</translation>
    </message>
    <message>
        <source>Greulich-Pyle estimate (second opinion)</source>
        <translation>Greulich-Pyle 估计（第二意见）</translation>
    </message>
    <message>
        <source>Bone age against chronological age</source>
        <translation>骨龄与生活年龄比较</translation>
    </message>
    <message>
        <source>{years:n} y ({y:n} y {m:n} m)</source>
        <translation>{years} 岁（{y} 岁 {m} 个月）</translation>
    </message>
    <message>
        <source>{years:n} y</source>
        <translation>{years} 岁</translation>
    </message>
    <message>
        <source>≤ {age} (below the range the method can tell)</source>
        <translation>≤ {age}（低于本方法可评定的范围）</translation>
    </message>
    <message>
        <source>≥ {age} (above the range: mature)</source>
        <translation>≥ {age}（高于本方法范围：已成熟）</translation>
    </message>
    <message>
        <source>advanced</source>
        <translation>提前</translation>
    </message>
    <message>
        <source>within normal limits</source>
        <translation>正常范围内</translation>
    </message>
    <message>
        <source>delayed</source>
        <translation>落后</translation>
    </message>
    <message>
        <source>{verdict} (bone age {d:n} y from chronological age, {sd:n} SD; limits ±{lim:n} y)</source>
        <translation>{verdict}（骨龄与生活年龄相差 {d} 岁，{sd} 个标准差；界限 ±{lim} 岁）</translation>
    </message>
    <message>
        <source>On {films:n} held-out films ({reference}) the RUS-CHN bone age lay within {half:n} months of the radiologist's Greulich-Pyle reading for half of them and within {most:n} months for 90 %.</source>
        <translation>在 {films} 张留出验证片（{reference}）上，RUS-CHN 骨龄与放射科医师 Greulich-Pyle 读数之差：半数在 {half} 个月以内，90% 在 {most} 个月以内。</translation>
    </message>
    <message>
        <source>On {films:n} held-out films ({reference}) the RUS-CHN bone age lay within {half:n} months of the radiologist's Greulich-Pyle reading for half of them and within {most:n} months for 90 %; of the {n_read:n} read at {lo:n}-{hi:n} y ({bref}), half within {bhalf:n} and 90 % within {bmost:n} months, {side}.</source>
        <translation>在 {films} 张留出验证片（{reference}）上，RUS-CHN 骨龄与放射科医师 Greulich-Pyle 读数之差：半数在 {half} 个月以内，90% 在 {most} 个月以内；其中读数为 {lo}-{hi} 岁的 {n_read} 张（{bref}），半数在 {bhalf} 个月以内，90% 在 {bmost} 个月以内，{side}。</translation>
    </message>
    <message>
        <source>on average {x:n} months above the radiologist</source>
        <translation>平均比放射科医师高 {x} 个月</translation>
    </message>
    <message>
        <source>on average {x:n} months below the radiologist</source>
        <translation>平均比放射科医师低 {x} 个月</translation>
    </message>
    <message>
        <source>on average level with the radiologist</source>
        <translation>平均与放射科医师一致</translation>
    </message>
    <message>
        <source>{bone}: low stage confidence ({conf:n})</source>
        <translation>{bone}：分期置信度低（{conf}）</translation>
    </message>
    <message>
        <source>{bone}: region found with low confidence ({conf:n})</source>
        <translation>{bone}：区域定位置信度低（{conf}）</translation>
    </message>
    <message>
        <source>grey scale inverted: the file shows bone dark (probability {p:n}), so it was read inverted; check the export's polarity</source>
        <translation>灰度反转：文件中骨骼呈暗色（概率 {p}），已按反转读取；请检查导出设置的极性</translation>
    </message>
    <message>
        <source>read without the hand-film check: make sure this is a hand-and-wrist film in a PA view (a foot's toes can keep a hand's joint layout)</source>
        <translation>未经手部片检查读取：请确认这是后前位手腕部X线片（足趾的关节排列可能与手相似）</translation>
    </message>
    <message>
        <source>hand located less surely than 98 % of the localizer's validation hands (confidence {conf:n} &lt; {usual:n}): check its regions on the film before trusting the stages</source>
        <translation>手部定位把握低于定位模型 98% 的验证手（置信度 {conf} &lt; {usual}）：请先在片上核对各区域，再采信分期</translation>
    </message>
    <message>
        <source>{a} and {b}: stages {sa:n} and {sb:n}, {d:n} apart, though fingers III and V mature together (on the stage model's validation films rarely {limit:n} or more): check both</source>
        <translation>{a} 与 {b}：分期为 {sa} 与 {sb}，相差 {d}，而第三、第五指同步发育（在分期模型的验证片上很少相差 {limit} 或以上）：请同时核对</translation>
    </message>
    <message>
        <source>{what} {age_n:n} y is below {floor:n} y, the youngest bone age RUS-CHN tells for {sex}s: its figure cannot go lower and over-reads this child</source>
        <translation>{what} {age_n} 岁低于 {floor} 岁，即 RUS-CHN 对{sex}可评定的最小骨龄：其结果无法更低，会高估该儿童</translation>
    </message>
    <message>
        <source>chronological age</source>
        <translation>生活年龄</translation>
    </message>
    <message>
        <source>Greulich-Pyle estimate</source>
        <translation>Greulich-Pyle 估计</translation>
    </message>
    <message>
        <source>girl</source>
        <translation>女孩</translation>
    </message>
    <message>
        <source>boy</source>
        <translation>男孩</translation>
    </message>
    <message>
        <source>RUS-CHN and Greulich-Pyle estimates differ by {d:n} y (&gt; {limit:n} y): review the stages</source>
        <translation>RUS-CHN 与 Greulich-Pyle 估计相差 {d} 岁（&gt; {limit} 岁）：请复核各骨分期</translation>
    </message>
    <message>
        <source>two hands on the film: the {side} hand was read, on the image's {half:n} half ({why})</source>
        <translation>片上有双手：读取了{side}手，位于图像{half}半部（{why}）</translation>
    </message>
    <message>
        <source>RUS-CHN reads the left hand</source>
        <translation>RUS-CHN 读取左手</translation>
    </message>
    <message>
        <source>the right hand asked for; RUS-CHN reads the left</source>
        <translation>按要求读取右手；RUS-CHN 通常读取左手</translation>
    </message>
    <message>
        <source>RUS-CHN bone age report</source>
        <translation>RUS-CHN 骨龄报告</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Patient</source>
        <translation>患者</translation>
    </message>
    <message>
        <source>Patient ID</source>
        <translation>患者编号</translation>
    </message>
    <message>
        <source>Birth date</source>
        <translation>出生日期</translation>
    </message>
    <message>
        <source>Study date</source>
        <translation>检查日期</translation>
    </message>
    <message>
        <source>Hand</source>
        <translation>手</translation>
    </message>
    <message>
        <source>Chronological age</source>
        <translation>生活年龄</translation>
    </message>
    <message>
        <source>Warnings</source>
        <translation>警示</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>* stage set by the reader</source>
        <translation>* 分期由阅片者设定</translation>
    </message>
    <message>
        <source>Bone age (y)</source>
        <translation>骨龄（岁）</translation>
    </message>
    <message>
        <source>normal limits</source>
        <translation>正常范围</translation>
    </message>
    <message>
        <source>Research use only. Not a medical device. Stages are estimated by a model trained without radiologist stage labels (see the model cards); a qualified reader must confirm every stage.</source>
        <translation>仅供科研使用，非医疗器械。各骨分期由未使用放射科医师分期标注训练的模型估计（见模型卡）；每一分期均须由合格阅片者确认。</translation>
    </message>
</context>
</TS>
